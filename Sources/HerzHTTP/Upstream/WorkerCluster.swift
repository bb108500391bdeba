import HerzCore
import NIOCore

/// One worker's view of a cluster: its load balancer, its connection pools, and the availability
/// (health + ejections, with panic mode) it last pushed to the balancer.
///
/// Owned by the worker's event loop; no locks. Shared facts (health verdicts, ejections) are read
/// from ``SharedCluster`` and folded in whenever its `availabilityVersion` moves.
final class WorkerCluster {
    let shared: SharedCluster
    private let eventLoop: EventLoop
    private let balancer: any LoadBalancer
    private let subsetBalancer: SubsetLoadBalancer?
    private var availability: EndpointAvailability
    private var seenVersion = -1
    private var pools: [EndpointPool?]

    init(shared: SharedCluster, eventLoop: EventLoop) {
        self.shared = shared
        self.eventLoop = eventLoop
        let config = shared.config
        self.availability = EndpointAvailability(endpointCount: config.endpoints.count, healthChecked: config.healthCheck != nil)
        self.balancer = makeLoadBalancer(for: config, available: nil,
                                         random: SplitMix64(seed: UInt64.random(in: 0 ... .max)))
        self.subsetBalancer = balancer as? SubsetLoadBalancer
        self.pools = Array(repeating: nil, count: config.endpoints.count)
    }

    private func refreshAvailability() {
        shared.unejectIfDue()
        let version = shared.availabilityVersion.load(ordering: .acquiring)
        guard version != seenVersion else { return }
        seenVersion = version
        for i in 0..<shared.config.endpoints.count {
            availability.setHealthy(i, shared.healthy[i].load(ordering: .relaxed))
            availability.setEjected(i, shared.endpointStats[i].ejected.load(ordering: .relaxed))
        }
        balancer.updateAvailability(availability.available)
    }

    /// Picks an endpoint for one attempt, avoiding `excluded` (earlier attempts) when possible.
    func pick(hashKey: UInt64?, excluded: [Int], metadataMatch: [String: String]) -> Int? {
        refreshAvailability()
        let context = LoadBalancerContext(hashKey: hashKey, excluded: excluded)
        if let subsetBalancer, !metadataMatch.isEmpty {
            return subsetBalancer.pick(context, metadataMatch: metadataMatch)
        }
        return balancer.pick(context)
    }

    func pool(for endpoint: Int) -> EndpointPool {
        if let pool = pools[endpoint] { return pool }
        let pool = EndpointPool(endpoint: endpoint, address: shared.config.endpoints[endpoint].address,
                                eventLoop: eventLoop, cluster: shared)
        pools[endpoint] = pool
        return pool
    }

    /// An attempt to `endpoint` begins (each retry too).
    func requestStarted(_ endpoint: Int) {
        balancer.requestStarted(endpoint)
        let stats = shared.endpointStats[endpoint]
        stats.requests.wrappingIncrement(ordering: .relaxed)
        stats.activeRequests.wrappingIncrement(ordering: .relaxed)
    }

    /// How an attempt ended; `nil` outcome = cancelled by Herz (not the endpoint's fault).
    enum AttemptOutcome {
        case status(Int), connectFailure, reset, timeout, cancelled
    }

    /// Exactly once per ``requestStarted(_:)``.
    func requestFinished(_ endpoint: Int, outcome: AttemptOutcome) {
        balancer.requestFinished(endpoint)
        shared.endpointStats[endpoint].activeRequests.wrappingDecrement(ordering: .relaxed)
        switch outcome {
        case .status(let code): shared.recordOutcome(endpoint: endpoint, outcome: .status(code))
        case .connectFailure: shared.recordOutcome(endpoint: endpoint, outcome: .connectFailure)
        case .reset: shared.recordOutcome(endpoint: endpoint, outcome: .reset)
        case .timeout: shared.recordOutcome(endpoint: endpoint, outcome: .timeout)
        case .cancelled: break
        }
    }

    func shutdown() {
        for pool in pools { pool?.shutdown() }
    }
}
