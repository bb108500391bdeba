import HerzCoproc
import Histogram

/// What one measured run produced: the latency distribution (nanoseconds, HdrHistogram with three
/// significant digits) and the completed calls over the run's wall time.
struct Measurement {
    let latencies: Histogram<UInt64>
    let calls: Int
    /// Calls that got the failure policy instead of an answer (ring only), by reason.
    let failures: [String: Int]
    let elapsedNanos: UInt64

    var callsPerSecond: Double { elapsedNanos == 0 ? 0 : Double(calls) * 1e9 / Double(elapsedNanos) }

    /// The latency at `percentile` (0–100) in microseconds.
    func micros(atPercentile percentile: Double) -> Double {
        Double(latencies.valueAtPercentile(percentile)) / 1000
    }
}

/// Collects one run's latencies and call count. With an `expectedInterval` (paced runs) every value
/// is recorded with HdrHistogram's coordinated-omission correction, so a call that overran its slot
/// also counts the calls that could not start meanwhile.
struct Recorder {
    private var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000,
                                              numberOfSignificantValueDigits: .three)
    private(set) var calls = 0
    private var failures: [String: Int] = [:]
    let startedAt: UInt64
    private let expectedInterval: UInt64

    init(expectedInterval: UInt64 = 0) {
        self.expectedInterval = expectedInterval
        self.startedAt = MonotonicClock.nanos()
    }

    /// Records one call that started at `start` (MonotonicClock) and ended now; returns now.
    @discardableResult
    mutating func record(since start: UInt64) -> UInt64 {
        let now = MonotonicClock.nanos()
        if expectedInterval > 0 {
            histogram.recordCorrectedValue(now &- start, expectedInterval: expectedInterval)
        } else {
            histogram.record(now &- start)
        }
        calls += 1
        return now
    }

    /// Counts one completed call without timing it (throughput runs); returns now.
    @discardableResult
    mutating func count() -> UInt64 {
        calls += 1
        return MonotonicClock.nanos()
    }

    /// Counts one call that failed (not in `calls`, not timed).
    mutating func fail(reason: String) {
        failures[reason, default: 0] += 1
    }

    func finish() -> Measurement {
        Measurement(latencies: histogram, calls: calls, failures: failures, elapsedNanos: MonotonicClock.nanos() &- startedAt)
    }
}
