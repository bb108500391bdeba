import Atomics
import Foundation

/// Figures for `statsRequest`, updated by every ring thread without locks (relaxed atomics: they
/// are statistics, not synchronisation). Shared by the server and its ring threads.
final class ServerCounters: Sendable {
    let served = ManagedAtomic<UInt64>(0)
    let failed = ManagedAtomic<UInt64>(0)
    let inFlight = ManagedAtomic<Int>(0)
    let startNanos = DispatchTime.now().uptimeNanoseconds

    func stats() -> CoprocStats {
        CoprocStats(callsServed: served.load(ordering: .relaxed), callsFailed: failed.load(ordering: .relaxed),
                    inFlight: UInt32(clamping: inFlight.load(ordering: .relaxed)), rssBytes: Self.residentBytes(),
                    uptimeMillis: (DispatchTime.now().uptimeNanoseconds - startNanos) / 1_000_000)
    }

    /// VmRSS from /proc/self/status (0 when unreadable).
    private static func residentBytes() -> UInt64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = UInt64(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kib * 1024
    }
}
