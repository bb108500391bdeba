/// `least_request`: power of two choices. Two available members are drawn at random (weighted by
/// endpoint weight, with replacement, as Envoy does) and the one with less load wins; on a tie the
/// first draw wins.
///
/// Load is outstanding requests divided by weight (compared as `a₁·w₂ < a₂·w₁`, no division). With
/// equal weights this is exactly Envoy's P2C on active requests. With unequal weights Envoy switches
/// to an EDF scheduler over `weight / (active + 1)^bias`; Herz keeps P2C with weighted draws and
/// weight-normalised load instead: still O(log n), and when idle the picks follow the weights.
///
/// Load is tracked by the balancer itself: **the I/O layer must call
/// ``requestStarted(_:)`` when it sends an attempt to an endpoint and ``requestFinished(_:)``
/// exactly once when that attempt ends**, or the balancer sees stale load. Counts can be shared
/// between balancers of one cluster through ``ActiveRequestCounts``. Owned by one event loop (not
/// thread-safe); ``pick(_:)`` does not allocate.
public final class LeastRequestBalancer: LoadBalancer {
    private var members: BalancerMembers
    private var random: SplitMix64
    private var sampler = WeightedSampler()
    /// Outstanding requests per cluster endpoint (possibly shared with sibling balancers).
    public let activeRequests: ActiveRequestCounts

    /// - Parameters:
    ///   - members: cluster indices this balancer serves; nil = all endpoints.
    ///   - available: availability per cluster endpoint; nil = all available.
    ///   - activeRequests: counts to share with other balancers of the cluster; nil = a new one.
    public init(endpoints: [EndpointConfig], members: [Int]? = nil, available: [Bool]? = nil,
                random: SplitMix64 = SplitMix64(), activeRequests: ActiveRequestCounts? = nil) {
        self.members = BalancerMembers(endpoints: endpoints, members: members, available: available)
        self.random = random
        self.activeRequests = activeRequests ?? ActiveRequestCounts(endpointCount: endpoints.count)
        precondition(self.activeRequests.counts.count == endpoints.count)
        rebuild()
    }

    public func pick(_ context: LoadBalancerContext) -> Int? {
        guard !sampler.isEmpty else { return nil }
        let first: Int
        let second: Int
        if !context.excluded.isEmpty, members.hasAlternative(to: context.excluded) {
            first = sampler.draw(&random, avoiding: context.excluded)
            second = sampler.draw(&random, avoiding: context.excluded)
        } else {
            first = sampler.draw(&random)
            second = sampler.draw(&random)
        }
        // second wins only if strictly less loaded per unit of weight.
        let lhs = activeRequests[second] * members.weights[first]
        let rhs = activeRequests[first] * members.weights[second]
        return lhs < rhs ? second : first
    }

    public func updateAvailability(_ available: [Bool]) {
        if members.update(available) { rebuild() }
    }

    public func updateWeights(_ weights: [Int]) {
        if members.updateWeights(weights) { rebuild() }
    }

    public func requestStarted(_ endpoint: Int) { activeRequests.started(endpoint) }

    public func requestFinished(_ endpoint: Int) { activeRequests.finished(endpoint) }

    private func rebuild() {
        sampler = WeightedSampler(endpoints: members.availableMembers, weights: members.weights)
    }
}
