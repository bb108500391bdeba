import Atomics
import NIOCore
import Prometheus

/// Process-wide metrics: the Prometheus registry plus kernel-level counters.
///
/// Per-request metrics go through a per-worker ``HerzMetrics`` that caches its Prometheus handles,
/// so the registry's lock is taken only the first time a label combination is seen.
public final class MetricsRegistry: @unchecked Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Mirroring and fault-injection counters.
    public let traffic: TrafficMetrics
    public let activeConnections = ManagedAtomic<Int>(0)
    public let reloadsOK = ManagedAtomic<Int>(0)
    public let reloadsFailed = ManagedAtomic<Int>(0)

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.traffic = TrafficMetrics(registry: registry)
    }

    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
    ]
}

/// One worker's metric handles. Event-loop owned: the caches need no lock.
final class HerzMetrics {
    let shared: MetricsRegistry
    private struct RequestKey: Hashable { let listener, route, cluster: String; let code: Int }
    private struct RouteKey: Hashable { let listener, route, cluster: String }
    private var requestCounters: [RequestKey: Counter] = [:]
    private var latency: [RouteKey: DurationHistogram] = [:]
    private var retries: [String: Counter] = [:]
    private var protocolErrors: [String: Counter] = [:]
    /// The handles used by the last request: consecutive requests mostly share route, cluster and
    /// status, and comparing the keys (same string storage) is cheaper than hashing them.
    private var lastRequest: (key: RequestKey, counter: Counter)?
    private var lastLatency: (key: RouteKey, histogram: DurationHistogram)?

    init(shared: MetricsRegistry) { self.shared = shared }

    func recordRequest(stream: ProxyStream, reset: Bool) {
        let code = reset ? 0 : Int(stream.responseStatus?.code ?? 0)
        let cluster = stream.clusterName ?? "none"
        let key = RequestKey(listener: stream.listener.config.name, route: stream.routeName, cluster: cluster, code: code)
        let counter: Counter
        if let last = lastRequest, last.key == key { counter = last.counter } else if let existing = requestCounters[key] {
            counter = existing
            lastRequest = (key, existing)
        } else {
            counter = shared.registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: "herz_requests_total", unitName: "",
                                                 helpText: "Requests by listener, route, cluster and status code (0 = reset)"),
                labels: [("listener", key.listener), ("route", key.route), ("cluster", key.cluster), ("code", String(code))])
            requestCounters[key] = counter
            lastRequest = (key, counter)
        }
        counter.increment()
        let routeKey = RouteKey(listener: key.listener, route: key.route, cluster: cluster)
        let histogram: DurationHistogram
        if let last = lastLatency, last.key == routeKey { histogram = last.histogram } else if let existing = latency[routeKey] {
            histogram = existing
            lastLatency = (routeKey, existing)
        } else {
            histogram = shared.registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(metricName: "herz_request_duration", unitName: "seconds",
                                                 helpText: "Time from request head to the end of the response"),
                labels: [("listener", key.listener), ("route", key.route), ("cluster", cluster)],
                buckets: MetricsRegistry.latencyBuckets)
            latency[routeKey] = histogram
            lastLatency = (routeKey, histogram)
        }
        let elapsed = NIODeadline.now() - stream.startTime
        histogram.recordNanoseconds(elapsed.nanoseconds)
    }

    func retry(cluster: String) {
        let counter: Counter
        if let existing = retries[cluster] { counter = existing } else {
            counter = shared.registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: "herz_upstream_retries_total", unitName: "", helpText: "Upstream retries by cluster"),
                labels: [("cluster", cluster)])
            retries[cluster] = counter
        }
        counter.increment()
    }

    func protocolError(listener: String, status: Int) {
        let key = "\(listener)|\(status)"
        let counter: Counter
        if let existing = protocolErrors[key] { counter = existing } else {
            counter = shared.registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: "herz_downstream_protocol_errors_total", unitName: "",
                                                 helpText: "Requests rejected before routing (malformed, too large, timeout)"),
                labels: [("listener", listener), ("code", String(status))])
            protocolErrors[key] = counter
        }
        counter.increment()
    }
}
