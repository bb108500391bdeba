/// One `scope: global` limit as a worker keeps it: where its buckets live in the store, the
/// worker's leases on them (one per key, in a bounded ``FlowKeyedTable``), and its
/// `on_store_failure` policy with the per-worker fallback bucket table of `local(…)`.
///
/// Pure value type owned by a ``FlowGlobalLimiterState``.
public struct FlowGlobalLimit: Sendable, Equatable {
    public let id: FlowLimitID
    /// Nil when the rate and burst do not fit the store's arithmetic: every request then gets
    /// `on_store_failure` (reason ``FlowGlobalStoreFailure/unrepresentable``).
    public let bucket: FlowGlobalBucket?
    public let onStoreFailure: FlowStoreFailurePolicy
    /// Every store key of this limit starts with this (``FlowGlobalStoreKey/limitPart(prefix:limit:)``).
    public let keyPart: String
    public internal(set) var leases: FlowKeyedTable<FlowGlobalLease>
    /// The `local(…)` fallback buckets (nil for `allow`), as ``FlowRuntimeState`` builds and carries them.
    public internal(set) var fallback: FlowKeyedTable<FlowTokenBucket>?

    /// The budget's store key for `value` (the request's key attributes).
    public func storeKey(_ value: String) -> String { FlowGlobalStoreKey.key(limitPart: keyPart, value: value) }

    /// `on_store_failure` for `cost` tokens of the budget `value`: admit (`allow`), or take them
    /// from this worker's fallback bucket for that key. A cost the bucket cannot pay in full is
    /// refused (tokens taken before the shortfall stay taken: conservative).
    mutating func fallbackDecision(value: String, cost: Int, reason: FlowGlobalStoreFailure, now: UInt64) -> FlowGlobalDecision {
        guard case .local = onStoreFailure, var table = fallback else { return .admit(.storeFailure(reason)) }
        fallback = nil   // one owner while it changes: no copy of the table
        defer { fallback = table }
        let slot = table.slot(for: value, now: now)
        let refusal: UInt64? = table.withEntry(at: slot) { bucket in
            for _ in 0..<max(1, cost) {
                if case .limit(let wait) = bucket.acquire(now: now) { return wait }
            }
            return nil
        } ?? nil
        return refusal.map { .limit(retryAfterNanos: $0, .storeFailure(reason)) } ?? .admit(.storeFailure(reason))
    }
}
