import Atomics
import HerzCore
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The live cluster layer of one `cluster "NAME" { … }` block, shared by every worker: its
/// ``FlowClusterController`` (breaker, dynamic weights, counters), the per-endpoint measurement
/// windows, and the weights last published to the workers' balancers.
///
/// Kept by ``FlowClusterRegistry`` under the cluster's name, so it survives reloads that recreate the
/// YAML cluster's ``SharedCluster`` (a changed endpoint list) or change the rules (its state is
/// carried over by the controller). Thread-safe: everything mutable sits behind one lock, taken
/// - per attempt start and end only when the cluster has a `breaker:` (the breaker must see every
///   attempt at once, across workers: half-open lets exactly `half_open_probes` through);
/// - per worker and period for measurements (workers tally without locks in between);
/// - per period by the registry's tick, which recomputes the weights.
/// Workers learn about new weights through ``weightsVersion`` (one relaxed atomic load per pick).
final class FlowClusterRuntime: @unchecked Sendable {
    let name: String
    let timing: FlowClusterTiming
    private let lock = NIOLock()
    private var controller: FlowClusterController
    private var windows: [String: EndpointMeasurementWindow] = [:]
    private var shared: SharedCluster
    private var published: [String: Int] = [:]
    private var lastReadings: [FlowClusterController.EndpointReading] = []
    /// Bumped whenever the published weights change (or stop applying).
    let weightsVersion = ManagedAtomic<Int>(0)
    /// Whether attempts must ask the breaker (read without the lock on every attempt).
    let hasBreaker: ManagedAtomic<Bool>

    init(cluster: FlowCluster, shared: SharedCluster, timing: FlowClusterTiming) {
        self.name = cluster.name
        self.timing = timing
        self.controller = FlowClusterController(cluster: cluster)
        self.shared = shared
        self.hasBreaker = ManagedAtomic(cluster.breaker != nil)
    }

    // MARK: reload

    /// New policies and/or a new YAML cluster (called by the registry on reload); the breaker and
    /// weights carry over as ``FlowClusterState/carriedOver(to:)`` decides.
    func reconfigure(to cluster: FlowCluster, shared: SharedCluster) -> FlowClusterState.Notes {
        let notes = lock.withLock { () -> FlowClusterState.Notes in
            let (next, notes) = controller.reconfigured(to: cluster)
            controller = next
            self.shared = shared
            published = next.weights
            return notes
        }
        hasBreaker.store(cluster.breaker != nil, ordering: .relaxed)
        weightsVersion.wrappingIncrement(ordering: .releasing)
        return notes
    }

    // MARK: attempts (any worker)

    func admit(now: UInt64) -> (FlowClusterController.Admission, FlowClusterController.BreakerEvent?) {
        lock.withLock { controller.admit(now: now) }
    }

    func record(_ permit: FlowCircuitBreaker.Permit?, failure: Bool, now: UInt64) -> FlowClusterController.BreakerEvent? {
        guard permit != nil else { return nil }
        return lock.withLock { controller.record(permit, failure: failure, now: now) }
    }

    func cancel(_ permit: FlowCircuitBreaker.Permit?) {
        guard permit != nil else { return }
        lock.withLock { controller.cancel(permit) }
    }

    /// A worker's measurements of one period, by endpoint address.
    func merge(_ tallies: [(endpoint: String, tally: EndpointTally)], now: UInt64) {
        lock.withLock {
            for (endpoint, tally) in tallies {
                windows[endpoint, default: EndpointMeasurementWindow(periodNanos: timing.periodNanos, slotCount: timing.windowSlots)]
                    .add(tally, now: now)
            }
        }
    }

    /// The published dynamic weights by endpoint address (empty: the configured weights apply).
    func publishedWeights() -> [String: Int] { lock.withLock { published } }

    // MARK: the registry's tick

    /// Once per period: moves an open breaker to half-open when its time is up, reads every
    /// endpoint's window, recomputes the weights (ejected endpoints held) and publishes them.
    /// Returns the breaker event and the number of endpoint weights that changed.
    func tick(now: UInt64) -> (event: FlowClusterController.BreakerEvent?, changed: [String]) {
        let (event, changed, publish) = lock.withLock { () -> (FlowClusterController.BreakerEvent?, [String], Bool) in
            let event = controller.refresh(now: now)
            shared.unejectIfDue()
            var readings: [FlowClusterController.EndpointReading] = []
            var seen = Set<String>()
            for (i, endpoint) in shared.config.endpoints.enumerated() {
                let address = endpoint.address.description
                guard seen.insert(address).inserted else { continue }
                let total = windows[address]?.total(now: now) ?? EndpointTally()
                let excluded = !shared.healthy[i].load(ordering: .relaxed) || shared.endpointStats[i].ejected.load(ordering: .relaxed)
                readings.append(.init(endpoint: address, p95Nanos: total.p95Nanos, requests: total.requests,
                                      failures: total.failures, excluded: excluded))
            }
            windows = windows.filter { seen.contains($0.key) }
            lastReadings = readings
            let changed = controller.updateWeights(readings)
            let publish = controller.weights != published
            if publish { published = controller.weights }
            return (event, changed, publish)
        }
        if publish { weightsVersion.wrappingIncrement(ordering: .releasing) }
        return (event, changed)
    }

    // MARK: views

    /// Everything `/flow/clusters` and `/metrics` show, read under the lock in one go.
    struct View {
        let cluster: FlowCluster
        let phase: FlowClusterController.Phase
        let breakerState: FlowCircuitBreaker.State?
        let windowRequests: Int
        let windowFailures: Int
        let rejections: Int
        let transitions: [FlowClusterController.Transition: Int]
        let weightChanges: Int
        let weights: [String: Int]
        let readings: [FlowClusterController.EndpointReading]
        let endpoints: [EndpointConfig]
        let lbPolicy: ClusterConfig.LBPolicy

        /// Whether the balancer follows dynamic weights (ring_hash and maglev keep the configured ones).
        var weightsApply: Bool { lbPolicy != .ringHash && lbPolicy != .maglev }
    }

    func view(now: UInt64) -> View {
        lock.withLock {
            let counts = controller.breakerCounts(now: now)
            return View(cluster: controller.cluster, phase: controller.phase, breakerState: controller.state.breaker?.state,
                        windowRequests: counts.requests, windowFailures: counts.failures, rejections: controller.rejections,
                        transitions: controller.transitions, weightChanges: controller.weightChanges, weights: published,
                        readings: lastReadings, endpoints: shared.config.endpoints, lbPolicy: shared.config.lbPolicy)
        }
    }
}
