import Glibc
import HerzCoproc

/// Spaces call starts at a fixed rate (`--rate`): each call starts at its slot or, when the previous
/// call overran, as soon as it can. Used by the latency runs when the bench is paced rather than
/// back-to-back.
struct Pacer {
    let intervalNanos: UInt64
    private var next: UInt64

    init?(rate: Double) {
        guard rate > 0 else { return nil }
        intervalNanos = UInt64(1e9 / rate)
        next = MonotonicClock.nanos()
    }

    /// When the next call should start (never in the past), and advances the schedule.
    mutating func nextStart() -> UInt64 {
        let start = max(next, MonotonicClock.nanos())
        next = start &+ intervalNanos
        return start
    }

    /// Sleeps the calling thread until `deadline` (MonotonicClock nanoseconds).
    static func sleep(until deadline: UInt64) {
        var request = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &request, nil) == EINTR {}
    }
}
