import NIOCore

/// `cluster "name" { weight: …  breaker: … }`: policies the cluster layer applies to the YAML
/// cluster of that name. At least one of the two is set.
public struct FlowCluster: Sendable, Equatable {
    public var name: String
    public var location: SourceLocation
    public var weight: FlowWeightPolicy?
    public var breaker: FlowBreakerPolicy?

    public init(name: String, location: SourceLocation, weight: FlowWeightPolicy? = nil, breaker: FlowBreakerPolicy? = nil) {
        self.name = name
        self.location = location
        self.weight = weight
        self.breaker = breaker
    }
}

/// `weight: dynamic(latency_p95 | error_rate) { base, decay, min }`: endpoint weights follow a
/// measured signal (formula: ``FlowDynamicWeights``). Guarantees `1 <= minimum <= base <= 10⁶` and
/// `0 <= decay < 1`.
public struct FlowWeightPolicy: Hashable, Sendable {
    /// What the weights follow: each endpoint's p95 latency, or its error rate.
    public enum Signal: String, Hashable, Sendable, CaseIterable {
        case latencyP95 = "latency_p95"
        case errorRate = "error_rate"
    }

    public var signal: Signal
    public var base: Int
    public var decay: Double
    public var minimum: Int

    /// Out-of-range values are clamped: `base` to 1...1,000,000, `decay` to 0...0.999, `minimum`
    /// to 1...base (the checker refuses them with a message instead).
    public init(signal: Signal, base: Int = 100, decay: Double = 0.5, minimum: Int = 1) {
        self.signal = signal
        self.base = min(1_000_000, max(1, base))
        self.decay = decay.isNaN ? 0.5 : min(0.999, max(0, decay))
        self.minimum = min(self.base, max(1, minimum))
    }
}

/// `breaker: { error_rate > 50% over 10s, min_requests, open_for, half_open_probes }`: when to
/// stop sending to the cluster and how to try again (state diagram: ``FlowCircuitBreaker``).
public struct FlowBreakerPolicy: Hashable, Sendable {
    /// 0...1 (`50%` is 0.5).
    public var errorRateThreshold: Double
    /// `>=` instead of `>`.
    public var inclusive: Bool
    public var window: TimeAmount
    public var minRequests: Int
    public var openFor: TimeAmount
    public var halfOpenProbes: Int

    public init(errorRateThreshold: Double, inclusive: Bool = false, window: TimeAmount, minRequests: Int = 20,
                openFor: TimeAmount = .seconds(5), halfOpenProbes: Int = 1) {
        self.errorRateThreshold = min(1, max(0, errorRateThreshold))
        self.inclusive = inclusive
        self.window = window
        self.minRequests = max(1, minRequests)
        self.openFor = openFor
        self.halfOpenProbes = max(1, halfOpenProbes)
    }
}
