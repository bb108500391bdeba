import Prometheus
import Synchronization

/// Counters of request mirroring and fault injection (docs/traffic-features.md), shared by every
/// worker. Handles are cached per label set behind one lock, taken once per mirrored request or
/// injected fault — never on a request that neither mirrors nor meets a fault.
public final class TrafficMetrics: Sendable {
    private struct Key: Hashable { let name: String; let labels: [String] }
    private let registry: PrometheusCollectorRegistry
    private let counters = Mutex<[Key: Counter]>([:])

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    private static let help: [String: String] = [
        "herz_mirror_requests_total": "Mirrored requests whose copy reached the mirror cluster and got a non-5xx answer",
        "herz_mirror_failures_total": "Mirrored requests that failed at the mirror cluster (connect failure, reset, timeout, 5xx)",
        "herz_mirror_skipped_total": "Mirrors not sent or abandoned by Herz (body too large, mirror slower than the client, ...)",
        "herz_fault_delays_injected_total": "Requests delayed by the fault filter",
        "herz_fault_aborts_injected_total": "Requests aborted by the fault filter",
        "herz_fault_skipped_total": "Faults not injected because max_active_faults was reached",
    ]

    private func increment(_ name: String, _ labels: [(String, String)]) {
        let key = Key(name: name, labels: labels.map { "\($0.0)=\($0.1)" })
        let counter = counters.withLock { cache -> Counter in
            if let existing = cache[key] { return existing }
            let made = registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: Self.help[name] ?? ""), labels: labels)
            cache[key] = made
            return made
        }
        counter.increment()
    }

    func mirrored(cluster: String) { increment("herz_mirror_requests_total", [("cluster", cluster)]) }
    func mirrorFailed(cluster: String, reason: String) { increment("herz_mirror_failures_total", [("cluster", cluster), ("reason", reason)]) }
    func mirrorSkipped(cluster: String, reason: String) { increment("herz_mirror_skipped_total", [("cluster", cluster), ("reason", reason)]) }

    func faultDelayed(route: String) { increment("herz_fault_delays_injected_total", [("route", route)]) }
    func faultAborted(route: String) { increment("herz_fault_aborts_injected_total", [("route", route)]) }
    func faultSkipped(route: String) { increment("herz_fault_skipped_total", [("route", route), ("reason", "max_active_faults")]) }
}
