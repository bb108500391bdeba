import HerzCore

/// The cluster layer's part of `/metrics` (rendered by ``MetricsExposition``), read at scrape time from each runtime's counters (the
/// data path updates nothing for metrics):
/// - `herz_flow_weight_changes_total{cluster}`: endpoint weight changes;
/// - `herz_flow_endpoint_weight{cluster,endpoint}`: the dynamic weight in force;
/// - `herz_flow_endpoint_latency_p95_seconds{cluster,endpoint}` and
///   `herz_flow_endpoint_error_ratio{cluster,endpoint}`: what the weights were computed from;
/// - `herz_flow_breaker_transitions_total{cluster,from,to}`, `herz_flow_breaker_state{cluster}`
///   (0 closed, 1 open, 2 half-open), `herz_flow_breaker_rejections_total{cluster}`.
/// Counters live as long as the cluster's `cluster` block (reloads keep them).
extension MetricsExposition {
    func flowClusterFamilies() -> String {
        let registry = kernel.flowClusters
        let now = FlowClusterRegistry.now()
        var changes: [(String, String)] = [], weights: [(String, String)] = [], p95: [(String, String)] = []
        var errors: [(String, String)] = [], transitions: [(String, String)] = [], states: [(String, String)] = []
        var rejections: [(String, String)] = []
        for runtime in registry.all() {
            let view = runtime.view(now: now)
            let cluster = "cluster=\"\(escape(runtime.name))\""
            if view.cluster.weight != nil {
                changes.append(("{\(cluster)}", String(view.weightChanges)))
                for (address, weight) in view.weights.sorted(by: { $0.key < $1.key }) {
                    weights.append(("{\(cluster),endpoint=\"\(escape(address))\"}", String(weight)))
                }
            }
            for reading in view.readings {
                let labels = "{\(cluster),endpoint=\"\(escape(reading.endpoint))\"}"
                if let value = reading.p95Nanos { p95.append((labels, String(Double(value) / 1e9))) }
                if let rate = reading.errorRate { errors.append((labels, String(rate))) }
            }
            if view.cluster.breaker != nil {
                states.append(("{\(cluster)}", String(FlowClusterController.Phase.allCases.firstIndex(of: view.phase) ?? 0)))
                rejections.append(("{\(cluster)}", String(view.rejections)))
                for edge in FlowClusterController.Transition.edges {
                    transitions.append(("{\(cluster),from=\"\(edge.from.rawValue)\",to=\"\(edge.to.rawValue)\"}",
                                        String(view.transitions[edge] ?? 0)))
                }
            }
        }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ rows: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in rows { out += "\(name)\(labels) \(value)\n" }
        }
        family("herz_flow_weight_changes_total", "counter", "Dynamic endpoint weight changes per cluster", changes)
        family("herz_flow_endpoint_weight", "gauge", "Dynamic weight in force per endpoint (multiplies the configured weight)", weights)
        family("herz_flow_endpoint_latency_p95_seconds", "gauge", "p95 attempt latency per endpoint over the measurement window", p95)
        family("herz_flow_endpoint_error_ratio", "gauge", "Failed attempts / attempts per endpoint over the measurement window", errors)
        family("herz_flow_breaker_transitions_total", "counter", "Flow breaker transitions per cluster", transitions)
        family("herz_flow_breaker_state", "gauge", "Flow breaker state: 0 closed, 1 open, 2 half-open", states)
        family("herz_flow_breaker_rejections_total", "counter", "Attempts refused by an open or saturated half-open flow breaker", rejections)
        return out
    }

}
