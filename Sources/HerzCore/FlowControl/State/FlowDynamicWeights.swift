/// Endpoint weights for `weight: dynamic(SIGNAL) { base: B, decay: D, min: M }`, recomputed from
/// one measurement per endpoint at each update (the cluster layer decides how often):
///
/// ```
/// badness_i = max(p95_i, 1µs)            for latency_p95 (nanoseconds)
///           = clamp(rate_i, 0, 1) + 0.01  for error_rate (one point of slack, so 0% vs 0.1% is no 10× gap)
/// target_i  = B × min_j(badness_j) / badness_i     (the best endpoint gets B; one twice as bad gets B/2)
///           = B                                    when endpoint i has no measurement (no evidence of trouble)
/// smooth_i  = D × smooth_i + (1 − D) × target_i    (new endpoints start at B; D = 0 jumps at once)
/// weight_i  = max(M, round(smooth_i))
/// ```
///
/// `M ≥ 1` keeps a slow endpoint in rotation so it can show it recovered. Weights only shape the
/// balancer's choice: an endpoint ejected by health checks or outlier detection stays ejected
/// whatever its weight. Pure value type, owned by the cluster's state.
public struct FlowDynamicWeights: Sendable, Equatable {
    /// One endpoint's measurement: p95 latency in nanoseconds or an error rate in 0...1; nil when
    /// it served no request in the measurement period.
    public struct Sample: Sendable, Equatable {
        public var endpoint: String
        public var value: Double?

        public init(endpoint: String, value: Double?) {
            self.endpoint = endpoint
            self.value = value
        }
    }

    public private(set) var policy: FlowWeightPolicy
    private var smoothed: [String: Double] = [:]

    public init(policy: FlowWeightPolicy) { self.policy = policy }

    /// Applies one round of measurements; endpoints absent from `samples` are forgotten.
    /// Returns the new weight of every endpoint in `samples`.
    ///
    /// Endpoints in `held` (ejected by health checks or outlier detection) keep their weight as it
    /// is, whatever their sample says, and their samples do not count for the best endpoint: they
    /// take no traffic, so their measurements are stale, and when they are back they re-enter with
    /// the weight they left with.
    public mutating func update(_ samples: [Sample], holding held: Set<String> = []) -> [String: Int] {
        let base = Double(policy.base)
        let badnesses = samples.map { sample in
            held.contains(sample.endpoint) ? nil : sample.value.flatMap { self.badness($0) }
        }
        let best = badnesses.compactMap { $0 }.min()
        var next: [String: Double] = [:]
        for (sample, bad) in zip(samples, badnesses) {
            let previous = smoothed[sample.endpoint] ?? base
            if held.contains(sample.endpoint) {
                next[sample.endpoint] = previous
                continue
            }
            let target = bad.flatMap { value in best.map { base * $0 / value } } ?? base
            next[sample.endpoint] = policy.decay * previous + (1 - policy.decay) * target
        }
        smoothed = next
        return next.mapValues(clampedWeight)
    }

    /// The current weight of `endpoint` (`base` for one never seen).
    public func weight(of endpoint: String) -> Int { clampedWeight(smoothed[endpoint] ?? Double(policy.base)) }

    /// The same weights under a new policy (a reload): kept if the signal is unchanged, else reset.
    public func reconfigured(to policy: FlowWeightPolicy) -> FlowDynamicWeights {
        var weights = policy.signal == self.policy.signal ? self : FlowDynamicWeights(policy: policy)
        weights.policy = policy
        return weights
    }

    private func badness(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch policy.signal {
        case .latencyP95: return max(value, 1_000)
        case .errorRate: return min(1, max(0, value)) + 0.01
        }
    }

    private func clampedWeight(_ value: Double) -> Int {
        guard value.isFinite else { return policy.base }
        return max(policy.minimum, Int(min(Double(policy.base), max(0, value)).rounded()))
    }
}
