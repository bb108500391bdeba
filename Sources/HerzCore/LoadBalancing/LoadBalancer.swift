/// Chooses an upstream endpoint for each request of one cluster.
///
/// Ownership: a balancer is a per-worker object, owned by one event loop. It is not thread-safe and
/// takes no lock; every call must come from the owning loop. Each worker builds its own balancers
/// from the cluster's config snapshot (``makeLoadBalancer(for:available:random:)``).
///
/// Indices: a balancer may serve only some of the cluster's endpoints (its *members*, e.g. one
/// subset), but every index it takes or returns is an index into the cluster's full `endpoints`.
///
/// Guarantees shared by every implementation:
/// - ``pick(_:)`` returns only a member endpoint that is available (per the last
///   ``updateAvailability(_:)``), or nil when no member is available. It does not allocate.
/// - Endpoints in ``LoadBalancerContext/excluded`` are avoided whenever another available member
///   exists; if only excluded ones are left, one of them is returned rather than nil.
/// - Panic mode (serving unavailable endpoints when too few are available) is *not* decided here:
///   ``EndpointAvailability`` decides it and passes the resulting `[Bool]`.
public protocol LoadBalancer: AnyObject {
    /// Picks an endpoint index (into the cluster's `endpoints`) among available members; nil if none.
    func pick(_ context: LoadBalancerContext) -> Int?

    /// Availability changed (health check, outlier ejection, panic): `available[i]` for each of the
    /// cluster's endpoints. Precondition: `available.count` equals the cluster's endpoint count.
    func updateAvailability(_ available: [Bool])

    /// New weights for the cluster's endpoints (`weights[i]` for each endpoint; the cluster layer's
    /// dynamic weights times the configured ones). Weights never make an unavailable endpoint
    /// pickable. `round_robin`, `least_request` and `random` follow them; `ring_hash` and `maglev`
    /// keep their configured weights (the default does nothing): rebuilding a ring or table every
    /// time a measured weight moves would move keys between endpoints all the time, which is what
    /// consistent hashing exists to avoid. Precondition: `weights.count` equals the endpoint count.
    func updateWeights(_ weights: [Int])

    /// The I/O layer calls this when a request is sent to `endpoint` (each attempt, retries too).
    /// Only ``LeastRequestBalancer`` uses it; the default does nothing.
    func requestStarted(_ endpoint: Int)

    /// The I/O layer calls this exactly once for every ``requestStarted(_:)``, when that attempt ends
    /// (response complete, reset, timeout or cancel). The default does nothing.
    func requestFinished(_ endpoint: Int)
}

extension LoadBalancer {
    public func updateWeights(_ weights: [Int]) {}
    public func requestStarted(_ endpoint: Int) {}
    public func requestFinished(_ endpoint: Int) {}
}

/// Per-request inputs to ``LoadBalancer/pick(_:)``. A plain value; building one does not allocate
/// unless `excluded` is non-empty.
public struct LoadBalancerContext: Sendable, Equatable {
    /// The request's hash (``computeHashKey(policies:headers:clientIP:)``); used by `ring_hash` and
    /// `maglev`. When nil those pick a random point instead, as Envoy does.
    public var hashKey: UInt64?
    /// Endpoints already tried by earlier attempts of this request (retries); avoided if possible.
    public var excluded: [Int]

    public init(hashKey: UInt64? = nil, excluded: [Int] = []) {
        self.hashKey = hashKey
        self.excluded = excluded
    }
}

/// Builds the balancer a cluster's config asks for: a ``SubsetLoadBalancer`` when `cluster.subset`
/// is set, otherwise the balancer for `cluster.lbPolicy` over all endpoints.
///
/// - Parameters:
///   - available: initial availability per endpoint; nil means all available.
///   - random: the generator the balancer owns (seed it per worker; fixed seeds in tests).
public func makeLoadBalancer(for cluster: ClusterConfig, available: [Bool]? = nil,
                             random: SplitMix64 = SplitMix64()) -> any LoadBalancer {
    if let subset = cluster.subset {
        return SubsetLoadBalancer(cluster: cluster, subset: subset, available: available, random: random)
    }
    return makePolicyBalancer(cluster: cluster, members: nil, available: available, random: random,
                              activeRequests: nil)
}

/// The balancer for `cluster.lbPolicy` over `members` (nil = all endpoints).
func makePolicyBalancer(cluster: ClusterConfig, members: [Int]?, available: [Bool]?, random: SplitMix64,
                        activeRequests: ActiveRequestCounts?) -> any LoadBalancer {
    switch cluster.lbPolicy {
    case .roundRobin:
        return RoundRobinBalancer(endpoints: cluster.endpoints, members: members, available: available,
                                  random: random)
    case .leastRequest:
        return LeastRequestBalancer(endpoints: cluster.endpoints, members: members, available: available,
                                    random: random, activeRequests: activeRequests)
    case .random:
        return RandomBalancer(endpoints: cluster.endpoints, members: members, available: available,
                              random: random)
    case .ringHash:
        return RingHashBalancer(endpoints: cluster.endpoints, members: members, available: available,
                                minimumRingSize: cluster.ringHashMinimumRingSize, random: random)
    case .maglev:
        return MaglevBalancer(endpoints: cluster.endpoints, members: members, available: available,
                              tableSize: cluster.maglevTableSize, random: random)
    }
}
