import HerzCore
import NIOCore

/// One worker's link from one cluster (its ``WorkerCluster``) to the cluster layer's shared
/// ``FlowClusterRuntime``: it asks the breaker before each attempt, tallies each attempt's latency
/// and outcome per endpoint without locks, hands the tallies to the runtime once per period, and
/// pushes the runtime's published weights into the worker's balancer.
///
/// Owned by the worker's event loop, like its ``WorkerCluster``. Without a `cluster` block for the
/// cluster it costs one relaxed atomic load per pick.
final class WorkerFlowLink {
    private let registry: FlowClusterRegistry
    private let shared: SharedCluster
    private let eventLoop: EventLoop
    private let addresses: [String]
    private var runtime: FlowClusterRuntime?
    private var seenRegistryVersion = -1
    private var seenWeightsVersion = -1
    private var tallies: [EndpointTally?]
    private var flushTask: RepeatedTask?

    init(registry: FlowClusterRegistry, shared: SharedCluster, eventLoop: EventLoop) {
        self.registry = registry
        self.shared = shared
        self.eventLoop = eventLoop
        self.addresses = shared.config.endpoints.map { $0.address.description }
        self.tallies = Array(repeating: nil, count: addresses.count)
    }

    /// Whether attempts are measured (a `cluster` block names this cluster).
    var isActive: Bool { runtime != nil }

    /// Before a pick: follows a new runtime (rules reloaded) and new published weights.
    func refresh(_ balancer: any LoadBalancer) {
        let version = registry.version.load(ordering: .acquiring)
        if version != seenRegistryVersion {
            seenRegistryVersion = version
            let next = registry.runtime(named: shared.config.name)
            if next !== runtime {
                runtime = next
                seenWeightsVersion = -1
                if next == nil { balancer.updateWeights(shared.config.endpoints.map(\.weight)) }
            }
            if runtime != nil { startFlushing() }
        }
        guard let runtime else { return }
        let weightsVersion = runtime.weightsVersion.load(ordering: .acquiring)
        guard weightsVersion != seenWeightsVersion else { return }
        seenWeightsVersion = weightsVersion
        let published = runtime.publishedWeights()
        let base = published.isEmpty ? 1 : nil
        balancer.updateWeights(zip(shared.config.endpoints, addresses).map { endpoint, address in
            let dynamic = base ?? published[address] ?? 1
            let (product, overflow) = endpoint.weight.multipliedReportingOverflow(by: dynamic)
            return overflow ? Int(Int32.max) : min(product, Int(Int32.max))
        })
    }

    /// The breaker's verdict for one attempt (allow with no permit when there is no breaker).
    func admit(now: UInt64) -> FlowClusterController.Admission {
        guard let runtime, runtime.hasBreaker.load(ordering: .relaxed) else { return .allow(nil) }
        let (admission, event) = runtime.admit(now: now)
        if let event { registry.log(event, cluster: runtime.name) }
        return admission
    }

    /// One attempt ended: tallied for the weights, and its outcome given to the breaker.
    /// `cancelled`: Herz dropped it (no outcome; a probe slot is freed).
    func finished(endpoint: Int, permit: FlowCircuitBreaker.Permit?, startedNanos: UInt64, outcome: UpstreamOutcome?, now: UInt64) {
        guard let runtime else { return }
        guard let outcome else {
            runtime.cancel(permit)
            return
        }
        let latency: UInt64?
        switch outcome {
        case .status, .timeout: latency = startedNanos == 0 ? nil : now &- startedNanos
        case .connectFailure, .reset: latency = nil
        }
        if tallies[endpoint] == nil { tallies[endpoint] = EndpointTally() }
        tallies[endpoint]!.record(latencyNanos: latency, failure: outcome.isFailure)
        if let event = runtime.record(permit, failure: outcome.isFailure, now: now) {
            registry.log(event, cluster: runtime.name)
        }
    }

    /// Hands this period's tallies to the runtime (one lock per period).
    func flush() {
        guard let runtime else { return }
        var batch: [(endpoint: String, tally: EndpointTally)] = []
        for i in tallies.indices {
            guard let tally = tallies[i], !tally.isEmpty else { continue }
            batch.append((addresses[i], tally))
            tallies[i]!.reset()
        }
        if !batch.isEmpty { runtime.merge(batch, now: FlowClusterRegistry.now()) }
    }

    private func startFlushing() {
        guard flushTask == nil else { return }
        let period = TimeAmount.nanoseconds(Int64(registry.timing.periodNanos))
        let loopBound = NIOLoopBound(WeakLink(self), eventLoop: eventLoop)
        flushTask = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { task in
            guard let link = loopBound.value.link else { task.cancel(); return }
            link.flush()
        }
    }

    func shutdown() {
        flush()
        flushTask?.cancel()
        flushTask = nil
    }

    private struct WeakLink {
        weak var link: WorkerFlowLink?
        init(_ link: WorkerFlowLink) { self.link = link }
    }
}
