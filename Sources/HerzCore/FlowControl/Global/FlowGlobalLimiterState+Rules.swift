/// Building the state from rules, and reloads.
extension FlowGlobalLimiterState {
    /// Fresh state for the `scope: global` limits of `rules`: no leases, circuit closed.
    public init(rules: FlowRules, configuration: FlowGlobalConfiguration = FlowGlobalConfiguration(), now: UInt64) {
        self.configuration = configuration
        self.storeCircuit = FlowCircuitBreaker(policy: configuration.storeBreaker)
        _ = reload(to: rules, now: now)
    }

    /// Switches to `rules`. A limit whose ``FlowLimitID`` is unchanged keeps its leases (held tokens
    /// capped at a new `N − 1`), its waiting requests and calls, and its `local(…)` fallback buckets
    /// (carried by ``FlowRuntimeState/carriedOver(to:now:)``, reconfigured to a new rate). Requests
    /// waiting on a limit that is gone are answered ``FlowGlobalDecision/Basis/noSuchLimit``
    /// (admitted: the rule that limited them no longer exists). Handles of the old rules stop
    /// resolving; take new ones with ``handle(for:)``.
    public mutating func reload(to rules: FlowRules, now: UInt64) -> (report: FlowCarryOverReport, actions: FlowGlobalActions) {
        var carrier = FlowRuntimeState(rules: FlowRules(rules: [], clusters: []), now: now, maxKeysPerLimit: configuration.maxKeysPerLimit)
        for limit in limits {
            if let table = limit.fallback { carrier.limiters[limit.id] = .rate(table) }
        }
        let fallbacks = carrier.carriedOver(to: rules, now: now).state.limiters
        var next: [FlowGlobalLimit] = []
        var report = FlowCarryOverReport()
        for rule in rules.rules {
            for (id, limit) in zip(FlowLimitID.identities(of: rule), rule.limits) {
                guard case .rate(let rate, let burst) = limit.kind, case .global(let onStoreFailure) = limit.scope else { continue }
                let policy = FlowGlobalLease.Policy(cap: configuration.leaseCap(burst: burst), lifetimeNanos: configuration.leaseLifetimeNanos)
                let old = indexByID[id].map { limits[$0] }
                var fallback: FlowKeyedTable<FlowTokenBucket>?
                if case .rate(let table)? = fallbacks[id] { fallback = table }
                next.append(FlowGlobalLimit(
                    id: id, bucket: FlowGlobalBucket(rate: rate, burst: burst), onStoreFailure: onStoreFailure,
                    keyPart: FlowGlobalStoreKey.limitPart(prefix: configuration.keyPrefix, limit: id),
                    leases: old?.leases.reconfigured(to: policy, now: now)
                        ?? FlowKeyedTable(configuration: policy, maxKeys: configuration.maxKeysPerLimit, now: now),
                    fallback: fallback))
                report.note(id.description, kept: old != nil)
            }
        }
        let nextIndex = Dictionary(next.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })
        report.dropped = limits.map(\.id).filter { nextIndex[$0] == nil }.map(\.description).sorted()
        report.kept.sort()
        report.fresh.sort()
        var actions = FlowGlobalActions()
        for (ticket, entry) in waiting where nextIndex[entry.limit] == nil {
            waiting[ticket] = nil
            actions.answers.append(FlowGlobalAnswer(ticket: ticket, decision: .admit(.noSuchLimit)))
        }
        actions.answers.sort { $0.ticket < $1.ticket }
        limits = next
        indexByID = nextIndex
        generation &+= 1
        pruneDeadlines()
        return (report, actions)
    }
}
