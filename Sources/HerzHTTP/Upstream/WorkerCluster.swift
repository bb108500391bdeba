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
    /// The cluster layer (breaker, measurements, dynamic weights); nil outside a kernel.
    private let flow: WorkerFlowLink?

    init(shared: SharedCluster, eventLoop: EventLoop, flow: FlowClusterRegistry? = nil) {
        self.shared = shared
        self.eventLoop = eventLoop
        let config = shared.config
        self.availability = EndpointAvailability(endpointCount: config.endpoints.count, healthChecked: config.healthCheck != nil)
        self.balancer = makeLoadBalancer(for: config, available: nil,
                                         random: SplitMix64(seed: UInt64.random(in: 0 ... .max)))
        self.subsetBalancer = balancer as? SubsetLoadBalancer
        self.pools = Array(repeating: nil, count: config.endpoints.count)
        self.flow = flow.map { WorkerFlowLink(registry: $0, shared: shared, eventLoop: eventLoop) }
    }

    private func refreshAvailability() {
        flow?.refresh(balancer)
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

    /// One attempt to an endpoint, from ``requestStarted(_:)`` to ``requestFinished(_:outcome:)``.
    struct Attempt {
        let endpoint: Int
        /// When it started (monotonic ns; 0 when the cluster layer does not measure this cluster).
        let startedNanos: UInt64
        /// The cluster breaker's permit (nil without a breaker).
        let permit: FlowCircuitBreaker.Permit?
    }

    /// How ``requestStarted(_:)`` went.
    enum AttemptStart {
        case started(Attempt)
        /// The cluster's breaker refused the attempt: answer 503 without calling the upstream.
        case refusedByBreaker(FlowClusterController.Phase, retryAfterNanos: UInt64?)
    }

    /// An attempt to `endpoint` begins (each retry too), unless the cluster's breaker refuses it.
    func requestStarted(_ endpoint: Int) -> AttemptStart {
        var now: UInt64 = 0
        var permit: FlowCircuitBreaker.Permit?
        if let flow, flow.isActive {
            now = FlowClusterRegistry.now()
            switch flow.admit(now: now) {
            case .allow(let granted): permit = granted
            case .reject(let phase, let retryAfter): return .refusedByBreaker(phase, retryAfterNanos: retryAfter)
            }
        }
        balancer.requestStarted(endpoint)
        let stats = shared.endpointStats[endpoint]
        stats.requests.wrappingIncrement(ordering: .relaxed)
        stats.activeRequests.wrappingIncrement(ordering: .relaxed)
        return .started(Attempt(endpoint: endpoint, startedNanos: now, permit: permit))
    }

    /// How an attempt ended; `nil` outcome = cancelled by Herz (not the endpoint's fault).
    enum AttemptOutcome {
        case status(Int), connectFailure, reset, timeout, cancelled
    }

    /// Exactly once per attempt that ``requestStarted(_:)`` started.
    func requestFinished(_ attempt: Attempt, outcome: AttemptOutcome) {
        let endpoint = attempt.endpoint
        balancer.requestFinished(endpoint)
        shared.endpointStats[endpoint].activeRequests.wrappingDecrement(ordering: .relaxed)
        let upstreamOutcome: UpstreamOutcome?
        switch outcome {
        case .status(let code): upstreamOutcome = .status(code)
        case .connectFailure: upstreamOutcome = .connectFailure
        case .reset: upstreamOutcome = .reset
        case .timeout: upstreamOutcome = .timeout
        case .cancelled: upstreamOutcome = nil
        }
        if let upstreamOutcome { shared.recordOutcome(endpoint: endpoint, outcome: upstreamOutcome) }
        if let flow, flow.isActive {
            flow.finished(endpoint: endpoint, permit: attempt.permit, startedNanos: attempt.startedNanos,
                          outcome: upstreamOutcome, now: FlowClusterRegistry.now())
        }
    }

    func shutdown() {
        flow?.shutdown()
        for pool in pools { pool?.shutdown() }
    }
}
