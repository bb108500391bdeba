import NIOCore

/// The knobs of a worker's global limiter (docs/flow-control.md, section 9). Defaults are the
/// documented ones; every value is clamped to a sane range so that no setting can make a decision
/// wait without bound or a queue grow without bound.
public struct FlowGlobalConfiguration: Sendable, Equatable {
    /// How long one store call may take before its requests get the limit's `on_store_failure`
    /// (and the longest any `acquire` waits for an answer). Default 5 ms; 1 ms … 10 s.
    public var callTimeoutNanos: UInt64
    /// Leased tokens not spent within this time after their grant are dropped. Default 1 s.
    public var leaseLifetimeNanos: UInt64
    /// The most tokens one worker leases for one key at once (the `N` of the over-admission bound,
    /// further capped per limit at an eighth of its burst). Default 16; 1 means no pre-fetch.
    public var maxBatch: Int
    /// Requests waiting for the store, per worker; more get `on_store_failure` at once. Default 10,000.
    public var maxWaiters: Int
    /// When the store counts as down (calls answer with `on_store_failure` without asking it) and
    /// how it is probed again. Default: ≥ 50% of at least 3 calls failed within 1 s → open for
    /// 500 ms, then one probe call.
    public var storeBreaker: FlowBreakerPolicy
    /// The prefix of every key the limiter writes (``FlowGlobalStoreKey``).
    public var keyPrefix: String
    /// Lease entries per limit per worker (``FlowKeyedTable``); keys beyond ask the store per request.
    public var maxKeysPerLimit: Int

    public init(callTimeoutNanos: UInt64 = 5_000_000, leaseLifetimeNanos: UInt64 = 1_000_000_000, maxBatch: Int = 16,
                maxWaiters: Int = 10_000,
                storeBreaker: FlowBreakerPolicy = FlowBreakerPolicy(errorRateThreshold: 0.5, inclusive: true, window: .seconds(1),
                                                                     minRequests: 3, openFor: .milliseconds(500), halfOpenProbes: 1),
                keyPrefix: String = FlowGlobalStoreKey.defaultPrefix, maxKeysPerLimit: Int = 100_000) {
        self.callTimeoutNanos = min(10_000_000_000, max(1_000_000, callTimeoutNanos))
        self.leaseLifetimeNanos = min(3_600_000_000_000, max(1_000_000, leaseLifetimeNanos))
        self.maxBatch = min(1_000_000, max(1, maxBatch))
        self.maxWaiters = min(10_000_000, max(1, maxWaiters))
        self.storeBreaker = storeBreaker
        self.keyPrefix = keyPrefix
        self.maxKeysPerLimit = max(1, maxKeysPerLimit)
    }

    /// The lease cap `N` of a limit with this burst: `min(maxBatch, max(1, burst / 8))`, so one
    /// worker never holds more than an eighth of a bucket.
    public func leaseCap(burst: Int) -> Int { min(maxBatch, max(1, burst / 8)) }
}
