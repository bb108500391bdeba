import NIOCore

/// Parses config durations: a number with a unit, optionally several (`250ms`, `1s`, `1.5s`, `2m`,
/// `1h`, `1m30s`, `0s`). Units: `ns`, `us`, `ms`, `s`, `m`, `h`. A bare `0` is accepted as zero;
/// any other bare number is rejected (the unit is never guessed).
public enum DurationParser {
    public static let hint = "use a number with a unit: ns, us, ms, s, m, h (e.g. 250ms, 1.5s, 2m)"

    public static func parse(_ text: String) -> TimeAmount? {
        let trimmed = text.trimmingASCIISpaces()
        if trimmed == "0" { return .zero }
        var bytes = Substring(trimmed).utf8[...]
        guard !bytes.isEmpty else { return nil }
        var totalNanos: Double = 0
        while !bytes.isEmpty {
            let numberEnd = bytes.firstIndex { !(($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".")) } ?? bytes.endIndex
            guard numberEnd != bytes.startIndex,
                  let number = Double(String(decoding: bytes[bytes.startIndex..<numberEnd], as: UTF8.self)) else { return nil }
            let rest = bytes[numberEnd...]
            let unitEnd = rest.firstIndex { !($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) } ?? rest.endIndex
            let unit = String(decoding: rest[rest.startIndex..<unitEnd], as: UTF8.self)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us": scale = 1_000
            case "ms": scale = 1_000_000
            case "s": scale = 1_000_000_000
            case "m": scale = 60_000_000_000
            case "h": scale = 3_600_000_000_000
            default: return nil
            }
            totalNanos += number * scale
            bytes = rest[unitEnd...]
        }
        guard totalNanos.isFinite, totalNanos < Double(Int64.max) else { return nil }
        return .nanoseconds(Int64(totalNanos.rounded()))
    }

    /// The shortest exact rendering of `amount` (`1500ms`, `2m`, `0s`); the inverse of ``parse(_:)``.
    public static func format(_ amount: TimeAmount) -> String {
        let nanos = amount.nanoseconds
        if nanos == 0 { return "0s" }
        for (unit, scale) in [("h", Int64(3_600_000_000_000)), ("m", 60_000_000_000), ("s", 1_000_000_000),
                              ("ms", 1_000_000), ("us", 1_000)] where nanos % scale == 0 {
            return "\(nanos / scale)\(unit)"
        }
        return "\(nanos)ns"
    }
}

/// Parses byte sizes: a plain integer, or an integer with `B`, `KiB`, `MiB`, `GiB` (`64KiB`, `1MiB`).
public enum ByteSizeParser {
    public static let hint = "use a byte count or a size like 64KiB, 1MiB, 1GiB"

    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingASCIISpaces()
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let scale: Int
        switch trimmed.dropFirst(digits.count).trimmingASCIISpaces() {
        case "", "B": scale = 1
        case "KiB": scale = 1 << 10
        case "MiB": scale = 1 << 20
        case "GiB": scale = 1 << 30
        default: return nil
        }
        let (result, overflow) = number.multipliedReportingOverflow(by: scale)
        return overflow ? nil : result
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
