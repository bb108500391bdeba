/// The mutable side of one `cluster "NAME" { … }` block: its breaker (with `breaker:`) and its
/// dynamic weights (with `weight:`). A pure value; ``FlowRuntimeState`` keeps one per cluster for the
/// rules, ``FlowClusterController`` one for the kernel's cluster layer, and both carry it over a
/// reload with ``carriedOver(to:)`` — the one place that decides what a reload keeps.
public struct FlowClusterState: Sendable, Equatable {
    public var breaker: FlowCircuitBreaker?
    public var weights: FlowDynamicWeights?

    public init(breaker: FlowCircuitBreaker? = nil, weights: FlowDynamicWeights? = nil) {
        self.breaker = breaker
        self.weights = weights
    }

    /// Fresh state for `cluster`: breaker closed, every weight at `base`.
    public init(cluster: FlowCluster) {
        self = FlowClusterState().carriedOver(to: cluster).state
    }

    /// What a reload keeps, by name (`NAME/breaker`, `NAME/weight`), for the reload report.
    public struct Notes: Sendable, Equatable {
        public var kept: [String] = []
        public var fresh: [String] = []
    }

    /// The state for `cluster`'s (possibly new) policies, taken over from `self`:
    /// - the breaker is kept (state, generation and — when the window length is unchanged — its
    ///   counts) under the new policy; a cluster that gains `breaker:` starts closed;
    /// - the weights are kept when the signal (`latency_p95` / `error_rate`) is unchanged, else reset
    ///   to `base`;
    /// - a policy the cluster no longer has is dropped.
    public func carriedOver(to cluster: FlowCluster) -> (state: FlowClusterState, notes: Notes) {
        var next = FlowClusterState()
        var notes = Notes()
        func note(_ what: String, kept: Bool) {
            if kept { notes.kept.append("\(cluster.name)/\(what)") } else { notes.fresh.append("\(cluster.name)/\(what)") }
        }
        if let policy = cluster.breaker {
            next.breaker = breaker?.reconfigured(to: policy) ?? FlowCircuitBreaker(policy: policy)
            note("breaker", kept: breaker != nil)
        }
        if let policy = cluster.weight {
            next.weights = weights?.reconfigured(to: policy) ?? FlowDynamicWeights(policy: policy)
            note("weight", kept: weights?.policy.signal == policy.signal)
        }
        return (next, notes)
    }
}
