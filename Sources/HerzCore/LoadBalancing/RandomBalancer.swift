/// `random`: each pick draws an available member at random, with probability proportional to its
/// weight (uniform when weights are equal).
///
/// O(log n) per pick (O(1) with equal weights), no allocation. Owned by one event loop (not
/// thread-safe); its generator is its own, so seeded instances are reproducible in tests.
public final class RandomBalancer: LoadBalancer {
    private var members: BalancerMembers
    private var random: SplitMix64
    private var sampler = WeightedSampler()

    /// - Parameters:
    ///   - members: cluster indices this balancer serves; nil = all endpoints.
    ///   - available: availability per cluster endpoint; nil = all available.
    public init(endpoints: [EndpointConfig], members: [Int]? = nil, available: [Bool]? = nil,
                random: SplitMix64 = SplitMix64()) {
        self.members = BalancerMembers(endpoints: endpoints, members: members, available: available)
        self.random = random
        rebuild()
    }

    public func pick(_ context: LoadBalancerContext) -> Int? {
        guard !sampler.isEmpty else { return nil }
        if !context.excluded.isEmpty, members.hasAlternative(to: context.excluded) {
            return sampler.draw(&random, avoiding: context.excluded)
        }
        return sampler.draw(&random)
    }

    public func updateAvailability(_ available: [Bool]) {
        if members.update(available) { rebuild() }
    }

    public func updateWeights(_ weights: [Int]) {
        if members.updateWeights(weights) { rebuild() }
    }

    private func rebuild() {
        sampler = WeightedSampler(endpoints: members.availableMembers, weights: members.weights)
    }
}
