import Foundation
import ArgumentParser
import Logging

/// The three variants, by their `--variants` names, with their report labels.
enum VariantKind: String, CaseIterable {
    case inProcess = "in-process"
    case unix
    case ring

    var label: String {
        switch self {
        case .inProcess: return "in-process"
        case .unix: return "unix socket"
        case .ring: return "ring (Herz)"
        }
    }

    /// Parses `in-process,unix,ring` (any subset, any order; reported in this canonical order).
    static func parseList(_ text: String) throws -> [VariantKind] {
        let names = Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let unknown = names.filter { VariantKind(rawValue: $0) == nil }
        guard unknown.isEmpty, !names.isEmpty else {
            throw ValidationError("--variants takes a comma-separated subset of \(allCases.map(\.rawValue).joined(separator: ",")), got \(text)")
        }
        return allCases.filter { names.contains($0.rawValue) }
    }

    /// Starts the variant (and its server process) with sockets under `directory`.
    func make(directory: String, settings: RunSettings, logger: Logger) throws -> RoundTripVariant {
        switch self {
        case .inProcess:
            return InProcessVariant(maxFrameBytes: (settings.sizes.max() ?? 0) + 64 * 1024)
        case .unix:
            return try UnixSocketVariant(path: "\(directory)/unix.sock", serverCPU: settings.serverCPU)
        case .ring:
            return try RingVariant(path: "\(directory)/ring.sock", serverCPU: settings.serverCPU,
                                   spinMicros: settings.spinMicros, logger: logger)
        }
    }
}
