import Foundation
import ArgumentParser

/// Payload sizes as written on the command line (`64`, `64B`, `1KiB`, `16k`) and in the report.
enum PayloadSize {
    static func parseList(_ text: String) throws -> [Int] {
        let sizes = try text.split(separator: ",").map { try parse(String($0)) }
        guard !sizes.isEmpty else { throw ValidationError("--sizes is empty") }
        return sizes
    }

    static func parse(_ text: String) throws -> Int {
        let lowered = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = lowered.prefix { $0.isNumber }
        let unit = lowered.dropFirst(digits.count)
        let multiplier: Int
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kib", "kb": multiplier = 1024
        default: throw ValidationError("cannot read size \(text): use 64, 64B, 1KiB or 16k")
        }
        guard let value = Int(digits), value > 0, value * multiplier <= 64 * 1024 else {
            throw ValidationError("size \(text) must be between 1 byte and 64 KiB (the ring carries up to 128 KiB per frame)")
        }
        return value * multiplier
    }

    /// `64 B`, `1 KiB`, `16 KiB`, `1500 B`.
    static func label(_ size: Int) -> String {
        size >= 1024 && size % 1024 == 0 ? "\(size / 1024) KiB" : "\(size) B"
    }
}
