import HerzCore
import Logging
import NIOCore

/// Everything one event loop owns: its view of the current config and its per-cluster upstream
/// state (balancers, outlier detectors, connection pools).
///
/// A worker is only ever touched on its own event loop, so nothing in it needs a lock. The kernel
/// hands it a new ``ConfigSnapshot`` on reload with ``install(_:)``; requests already running keep
/// the snapshot they started with.
public final class Worker: @unchecked Sendable {
    public let index: Int
    public let eventLoop: EventLoop
    let logger: Logger
    let metrics: HerzMetrics
    private(set) var snapshot: ConfigSnapshot
    private var clusters: [String: WorkerCluster] = [:]
    var accessLog: AccessLogger?
    /// Where sampled requests' spans go (the kernel's exporter; nil outside a kernel).
    var spanExporter: OTLPSpanExporter?
    /// The kernel's cluster layer (flow breakers and dynamic weights); nil outside a kernel.
    var flowClusters: FlowClusterRegistry?
    /// Per-worker generator for request ids, weighted cluster picks and balancers: fast and
    /// lock-free; seeded once from the system generator.
    var random = SplitMix64(seed: UInt64.random(in: 0 ... .max))
    /// Route and request timeouts of this worker's streams.
    lazy var deadlines = DeadlineQueue(eventLoop: eventLoop)

    init(index: Int, eventLoop: EventLoop, snapshot: ConfigSnapshot, logger: Logger, metrics: HerzMetrics) {
        self.index = index
        self.eventLoop = eventLoop
        self.snapshot = snapshot
        self.logger = logger
        self.metrics = metrics
    }

    /// Switches to a new config generation. Clusters whose shared state carried over keep their
    /// pools and balancers; removed clusters close their idle connections.
    func install(_ new: ConfigSnapshot) {
        eventLoop.preconditionInEventLoop()
        snapshot = new
        var kept: [String: WorkerCluster] = [:]
        for (name, cluster) in clusters {
            if let shared = new.clusters[name], shared === cluster.shared {
                kept[name] = cluster
            } else {
                cluster.shutdown()
            }
        }
        clusters = kept
    }

    /// The worker-local state of a cluster of the *current* snapshot, created on first use.
    func cluster(named name: String, in snapshot: ConfigSnapshot) -> WorkerCluster? {
        guard let shared = snapshot.clusters[name] else { return nil }
        if let existing = clusters[name], existing.shared === shared { return existing }
        if snapshot !== self.snapshot {
            // A request from an older generation whose cluster changed: serve it from a private
            // instance so the current generation's pools are not polluted.
            return WorkerCluster(shared: shared, eventLoop: eventLoop, flow: flowClusters)
        }
        let created = WorkerCluster(shared: shared, eventLoop: eventLoop, flow: flowClusters)
        clusters[name] = created
        return created
    }

    func shutdownClusters() {
        for cluster in clusters.values { cluster.shutdown() }
        clusters.removeAll()
    }
}
