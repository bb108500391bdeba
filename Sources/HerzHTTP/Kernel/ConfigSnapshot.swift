import HerzCore
import NIOCore

/// One compiled, immutable configuration generation, shared read-only by every worker.
///
/// Built (and so validated) completely before it is installed; workers switch to a new snapshot
/// between requests, and a request keeps the snapshot it started with until it ends. Cluster state
/// that must survive a reload (health, circuit-breaker counters, stats) lives in ``SharedCluster``
/// objects that a new snapshot reuses when the cluster's config did not change.
public final class ConfigSnapshot: @unchecked Sendable {
    public let config: HerzConfig
    public let generation: Int
    public let listeners: [String: ListenerRuntime]
    public let clusters: [String: SharedCluster]
    /// The head-sampling decision of `tracing:` (nil: tracing off).
    public let tracingSampler: TraceSampler?

    /// `filters` supplies the filter types HerzCore does not build itself (the `coproc` filter).
    public init(config: HerzConfig, generation: Int, previous: ConfigSnapshot?, filters: FilterFactoryRegistry = FilterFactoryRegistry()) throws {
        self.config = config
        self.generation = generation
        self.tracingSampler = config.tracing.map { TraceSampler(ratio: $0.samplingRatio) }
        var listeners: [String: ListenerRuntime] = [:]
        for listener in config.listeners {
            listeners[listener.name] = try ListenerRuntime(config: listener, filters: filters,
                                                           altSvc: AltSvcAdvertisement.value(for: listener, among: config.listeners))
        }
        self.listeners = listeners
        var clusters: [String: SharedCluster] = [:]
        for cluster in config.clusters {
            if let old = previous?.clusters[cluster.name], old.config == cluster {
                clusters[cluster.name] = old
            } else {
                clusters[cluster.name] = SharedCluster(config: cluster, tls: try cluster.tls.map { try UpstreamTLS(config: $0) })
            }
        }
        self.clusters = clusters
    }
}

/// A listener's compiled routing and filter chain. Immutable; shared by all workers.
public final class ListenerRuntime: @unchecked Sendable {
    public let config: ListenerConfig
    public let routeTable: RouteTable
    public let filterFactories: [HTTPFilterFactory]
    /// `Alt-Svc` value added to this listener's responses (an https listener sharing port and
    /// certificate with a quic listener), else nil.
    public let altSvc: String?

    init(config: ListenerConfig, filters: FilterFactoryRegistry, altSvc: String? = nil) throws {
        self.config = config
        self.altSvc = altSvc
        self.routeTable = try RouteTable(router: config.router)
        self.filterFactories = makeFilterFactories(config.filters, registry: filters)
    }
}
