/// Request and failure counts over the last `window` of time, in a fixed ring of buckets (bounded
/// memory whatever the traffic). Counts cover the current bucket and the `bucketCount - 1` before
/// it: the last `window`, to within one bucket width (`window / bucketCount`).
/// Pure value type; time is an argument.
public struct FlowSlidingWindow: Sendable, Equatable {
    private struct Bucket: Sendable, Equatable {
        var index: UInt64 = 0
        var requests = 0
        var failures = 0
    }

    public let windowNanos: UInt64
    public let bucketNanos: UInt64
    private var buckets: [Bucket]

    /// `bucketCount` is at least 1; buckets are at least 1 ns wide.
    public init(windowNanos: UInt64, bucketCount: Int = 10) {
        let count = max(1, bucketCount)
        self.windowNanos = max(1, windowNanos)
        self.bucketNanos = max(1, self.windowNanos / UInt64(count))
        self.buckets = Array(repeating: Bucket(), count: count)
    }

    public mutating func record(failure: Bool, now: UInt64) {
        let index = now / bucketNanos
        let slot = Int(index % UInt64(buckets.count))
        if buckets[slot].index != index { buckets[slot] = Bucket(index: index) }
        buckets[slot].requests += 1
        if failure { buckets[slot].failures += 1 }
    }

    public func counts(now: UInt64) -> (requests: Int, failures: Int) {
        let current = now / bucketNanos
        let oldest = current >= UInt64(buckets.count) ? current - UInt64(buckets.count) + 1 : 0
        var totals = (requests: 0, failures: 0)
        for bucket in buckets where bucket.index >= oldest && bucket.index <= current {
            totals.requests += bucket.requests
            totals.failures += bucket.failures
        }
        return totals
    }

    public mutating func reset() {
        for slot in buckets.indices { buckets[slot] = Bucket() }
    }
}
