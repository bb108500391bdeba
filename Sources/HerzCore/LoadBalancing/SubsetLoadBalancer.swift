/// Envoy's subset load balancer: routes ask for endpoint metadata (`metadata_match`) and get an
/// endpoint of the matching subset.
///
/// At build time, for every selector (a list of metadata keys) and every distinct combination of
/// values those keys take among the endpoints that carry all of them, one inner balancer of the
/// cluster's `lb_policy` is built over exactly those endpoints. A pick with `metadataMatch` looks up
/// the subset whose selector keys are exactly the keys of `metadataMatch` and whose values equal its
/// values (one dictionary lookup, no allocation). An empty `metadataMatch` uses the whole cluster.
///
/// When no subset matches — or the subset exists but none of its endpoints is available — the
/// cluster's `fallback` decides: `no_fallback` → nil (the router answers 503), `any_endpoint` → the
/// whole-cluster balancer, `default_subset` → a balancer over the endpoints whose metadata contains
/// every key/value of `default_subset` (an empty `default_subset` matches every endpoint, as in Envoy).
///
/// Owned by one event loop (not thread-safe). Inner `least_request` balancers share one
/// ``ActiveRequestCounts``, so load seen through one subset is seen by all.
public final class SubsetLoadBalancer: LoadBalancer {
    /// One inner balancer per subset key (metadata key → value).
    private let subsets: [[String: String]: any LoadBalancer]
    private let whole: any LoadBalancer
    private let defaultSubset: (any LoadBalancer)?
    private let fallback: SubsetConfig.Fallback
    private let activeRequests: ActiveRequestCounts?

    /// Number of subsets built from the selectors (for tests and `/clusters`).
    public var subsetCount: Int { subsets.count }

    /// - Parameters:
    ///   - cluster: endpoints and `lb_policy` of the inner balancers.
    ///   - subset: selectors and fallback.
    ///   - available: availability per cluster endpoint; nil = all available.
    ///   - random: seeds the inner balancers' generators.
    public init(cluster: ClusterConfig, subset: SubsetConfig, available: [Bool]? = nil,
                random: SplitMix64 = SplitMix64()) {
        var random = random
        let counts = cluster.lbPolicy == .leastRequest ? ActiveRequestCounts(endpointCount: cluster.endpoints.count) : nil
        activeRequests = counts
        fallback = subset.fallback
        func build(_ members: [Int]?) -> any LoadBalancer {
            makePolicyBalancer(cluster: cluster, members: members, available: available,
                               random: SplitMix64(seed: random.next()), activeRequests: counts)
        }
        var membersByKey: [[String: String]: [Int]] = [:]
        for selector in subset.selectors where !selector.isEmpty {
            for (index, endpoint) in cluster.endpoints.enumerated() {
                var key: [String: String] = [:]
                for name in selector {
                    guard let value = endpoint.metadata[name] else { key = [:]; break }
                    key[name] = value
                }
                guard !key.isEmpty else { continue }
                if membersByKey[key]?.last != index { membersByKey[key, default: []].append(index) }
            }
        }
        // Build in a stable order so seeds are reproducible.
        let keys = membersByKey.keys.sorted { $0.sorted(by: <).description < $1.sorted(by: <).description }
        var subsets: [[String: String]: any LoadBalancer] = [:]
        for key in keys { subsets[key] = build(membersByKey[key]!) }
        self.subsets = subsets
        whole = build(nil)
        if subset.fallback == .defaultSubset {
            let members = cluster.endpoints.indices.filter { i in
                subset.defaultSubset.allSatisfy { cluster.endpoints[i].metadata[$0.key] == $0.value }
            }
            defaultSubset = build(members)
        } else {
            defaultSubset = nil
        }
    }

    /// Picks from the whole cluster (no metadata constraint).
    public func pick(_ context: LoadBalancerContext) -> Int? { whole.pick(context) }

    /// Picks from the subset `metadataMatch` names, or per the fallback policy.
    public func pick(_ context: LoadBalancerContext, metadataMatch: [String: String]) -> Int? {
        if metadataMatch.isEmpty { return whole.pick(context) }
        if let inner = subsets[metadataMatch], let chosen = inner.pick(context) { return chosen }
        switch fallback {
        case .noFallback: return nil
        case .anyEndpoint: return whole.pick(context)
        case .defaultSubset: return defaultSubset?.pick(context)
        }
    }

    public func updateAvailability(_ available: [Bool]) {
        whole.updateAvailability(available)
        defaultSubset?.updateAvailability(available)
        for inner in subsets.values { inner.updateAvailability(available) }
    }

    public func updateWeights(_ weights: [Int]) {
        whole.updateWeights(weights)
        defaultSubset?.updateWeights(weights)
        for inner in subsets.values { inner.updateWeights(weights) }
    }

    public func requestStarted(_ endpoint: Int) { activeRequests?.started(endpoint) }

    public func requestFinished(_ endpoint: Int) { activeRequests?.finished(endpoint) }
}
