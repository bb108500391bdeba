/// The mutable side of a ``FlowRules``: per-key limiter tables for every limit, a breaker per
/// cluster with `breaker:`, dynamic weights per cluster with `weight:`. A pure value: the kernel
/// decides who owns it (per worker or shared) and feeds it events with the time as an argument.
///
/// Reload (``carriedOver(to:now:)``) keeps the state of every limit whose ``FlowLimitID`` (rule name,
/// kind, key) is unchanged — reconfigured to its new rate, burst or cap — and of every cluster whose
/// name is unchanged; everything else starts fresh, and state of rules that are gone is dropped.
public struct FlowRuntimeState: Sendable, Equatable {
    /// The state of one limit.
    public enum Limiter: Sendable, Equatable {
        case rate(FlowKeyedTable<FlowTokenBucket>)
        case concurrency(FlowKeyedTable<FlowConcurrencyLimiter>)
    }

    public var limiters: [FlowLimitID: Limiter] = [:]
    public var breakers: [String: FlowCircuitBreaker] = [:]
    public var weights: [String: FlowDynamicWeights] = [:]
    public let maxKeysPerLimit: Int

    /// Fresh state for `rules`: full buckets, nothing in flight, breakers closed, weights at base.
    public init(rules: FlowRules, now: UInt64, maxKeysPerLimit: Int = 100_000) {
        self = FlowRuntimeState(maxKeysPerLimit: maxKeysPerLimit).carriedOver(to: rules, now: now).state
    }

    private init(maxKeysPerLimit: Int) { self.maxKeysPerLimit = maxKeysPerLimit }

    /// The state for `rules`, taking over what `self` has for unchanged limits and clusters.
    public func carriedOver(to rules: FlowRules, now: UInt64) -> (state: FlowRuntimeState, report: FlowCarryOverReport) {
        var next = FlowRuntimeState(maxKeysPerLimit: maxKeysPerLimit)
        var report = FlowCarryOverReport()
        for rule in rules.rules {
            for (id, limit) in zip(FlowLimitID.identities(of: rule), rule.limits) {
                guard let limiter = limiter(for: limit, carrying: limiters[id], now: now) else { continue }
                next.limiters[id] = limiter
                report.note(id.description, kept: limiters[id] != nil)
            }
        }
        for cluster in rules.clusters {
            let old = FlowClusterState(breaker: breakers[cluster.name], weights: weights[cluster.name])
            let (state, notes) = old.carriedOver(to: cluster)
            next.breakers[cluster.name] = state.breaker
            next.weights[cluster.name] = state.weights
            report.kept += notes.kept
            report.fresh += notes.fresh
        }
        report.dropped = (limiters.keys.filter { next.limiters[$0] == nil }.map(\.description)
            + breakers.keys.filter { next.breakers[$0] == nil }.map { "\($0)/breaker" }
            + weights.keys.filter { next.weights[$0] == nil }.map { "\($0)/weight" }).sorted()
        report.kept.sort()
        report.fresh.sort()
        return (next, report)
    }

    /// The limiter a limit needs, reconfigured from `old` when it is of the same sort. A global
    /// limit keeps a local table only for its `on_store_failure: local(…)` fallback.
    private func limiter(for limit: FlowLimit, carrying old: Limiter?, now: UInt64) -> Limiter? {
        let bucket: FlowTokenBucket.Configuration
        switch (limit.kind, limit.scope) {
        case (.concurrency(let cap), _):
            if case .concurrency(let table)? = old { return .concurrency(table.reconfigured(to: cap, now: now)) }
            return .concurrency(FlowKeyedTable(configuration: cap, maxKeys: maxKeysPerLimit, now: now))
        case (.rate, .global(.allow)):
            return nil
        case (.rate, .global(.local(let rate, let burst))), (.rate(let rate, let burst), .local):
            bucket = FlowTokenBucket.Configuration(rate: rate, burst: burst)
        }
        if case .rate(let table)? = old { return .rate(table.reconfigured(to: bucket, now: now)) }
        return .rate(FlowKeyedTable(configuration: bucket, maxKeys: maxKeysPerLimit, now: now))
    }
}

/// What a reload did with the old state, by name (`rule/kind/key`, `cluster/breaker`), sorted; for
/// the reload log line and tests.
public struct FlowCarryOverReport: Sendable, Equatable {
    public var kept: [String] = []
    public var fresh: [String] = []
    public var dropped: [String] = []

    mutating func note(_ name: String, kept wasKept: Bool) {
        if wasKept { kept.append(name) } else { fresh.append(name) }
    }
}
