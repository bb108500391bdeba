import Histogram

/// What one endpoint did over some stretch of time: its attempts' latency distribution and its
/// attempt and failure counts. The unit of measurement of the cluster layer (docs/flow-control.md,
/// "Cluster layer"): each worker fills one per endpoint per period without locks, and the cluster's
/// ``EndpointMeasurementWindow`` sums them per period.
///
/// Latencies go into an HdrHistogram (hdrhistogram-swift) in microseconds, 1 µs … 60 s (longer values
/// are recorded as 60 s), two significant digits: a record is an array increment, two tallies add by
/// summing arrays, and the p95 of a window is exact to 1% — what a weight needs, in ~10 KB per
/// endpoint and period. A plain value; not thread-safe.
struct EndpointTally: Sendable {
    static let highestMicros: UInt64 = 60_000_000

    private(set) var latencies = Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: EndpointTally.highestMicros,
                                                   numberOfSignificantValueDigits: .two)
    /// Attempts that ended with an outcome (cancelled ones are not counted).
    private(set) var requests = 0
    /// Of those, failures: 5xx, connect failure, reset, timeout.
    private(set) var failures = 0

    var isEmpty: Bool { requests == 0 }

    /// One attempt. `latencyNanos` is nil where the time says nothing about the endpoint's speed
    /// (connect failures and resets).
    mutating func record(latencyNanos: UInt64?, failure: Bool) {
        requests += 1
        if failure { failures += 1 }
        if let latencyNanos {
            latencies.record(min(Self.highestMicros, max(1, latencyNanos / 1_000)))
        }
    }

    mutating func add(_ other: EndpointTally) {
        requests += other.requests
        failures += other.failures
        if other.latencies.totalCount > 0 { latencies.add(other.latencies) }
    }

    mutating func reset() {
        requests = 0
        failures = 0
        latencies.reset()
    }

    /// The 95th percentile latency in nanoseconds; nil when no latency was recorded.
    var p95Nanos: UInt64? {
        latencies.totalCount > 0 ? latencies.valueAtPercentile(95) * 1_000 : nil
    }
}
