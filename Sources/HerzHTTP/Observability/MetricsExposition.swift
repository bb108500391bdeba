import HerzCore

/// Renders `/metrics`: the Prometheus registry (per-request counters and histograms) followed by
/// gauges read at scrape time from the kernel's atomics (connections, upstream health, LB picks,
/// ejections, reloads), so the data path never updates them twice.
struct MetricsExposition {
    let kernel: HerzKernel

    func render() -> String {
        var out = kernel.metrics.registry.emitToString()
        let m = kernel.metrics
        func gauge(_ name: String, _ help: String, _ rows: [(String, Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (labels, value) in rows { out += "\(name)\(labels) \(value)\n" }
        }
        func counter(_ name: String, _ help: String, _ rows: [(String, Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n"
            for (labels, value) in rows { out += "\(name)\(labels) \(value)\n" }
        }
        gauge("herz_downstream_connections_active", "Open downstream connections", [("", m.activeConnections.load(ordering: .relaxed))])
        let status = kernel.status()
        counter("herz_config_reloads_total", "Config reloads by result",
                [("{result=\"ok\"}", status.reloads), ("{result=\"failed\"}", status.reloadFailures)])
        gauge("herz_config_generation", "Generation of the config in force", [("", status.configGeneration)])
        let spans = kernel.spanExporter
        counter("herz_tracing_spans_total", "Spans by export result (exported, dropped: queue full, failed: export error)",
                [("{result=\"exported\"}", spans.exported.load(ordering: .relaxed)),
                 ("{result=\"dropped\"}", spans.dropped.load(ordering: .relaxed)),
                 ("{result=\"failed\"}", spans.failed.load(ordering: .relaxed))])
        gauge("herz_tracing_spans_queued", "Spans waiting for export", [("", spans.queuedCount)])
        if let error = status.lastReloadError {
            let firstLine = error.split(separator: "\n").first.map(String.init) ?? error
            gauge("herz_config_last_reload_error", "1 with the last rejected reload's first error as a label",
                  [("{error=\"\(escape(firstLine))\"}", 1)])
        } else {
            gauge("herz_config_last_reload_error", "1 with the last rejected reload's first error as a label", [])
        }
        let snapshot = kernel.currentSnapshot
        var healthy: [(String, Int)] = [], picks: [(String, Int)] = [], ejected: [(String, Int)] = []
        var ejections: [(String, Int)] = [], failures: [(String, Int)] = [], active: [(String, Int)] = []
        for config in snapshot.config.clusters {
            guard let shared = snapshot.clusters[config.name] else { continue }
            shared.unejectIfDue()
            for (i, endpoint) in config.endpoints.enumerated() {
                let labels = "{cluster=\"\(escape(config.name))\",endpoint=\"\(endpoint.address)\"}"
                let stats = shared.endpointStats[i]
                healthy.append((labels, shared.healthy[i].load(ordering: .relaxed) ? 1 : 0))
                ejected.append((labels, stats.ejected.load(ordering: .relaxed) ? 1 : 0))
                picks.append((labels, stats.requests.load(ordering: .relaxed)))
                failures.append((labels, stats.failures.load(ordering: .relaxed)))
                ejections.append((labels, stats.ejections.load(ordering: .relaxed)))
            }
            active.append(("{cluster=\"\(escape(config.name))\"}", shared.activeRequests.load(ordering: .relaxed)))
        }
        gauge("herz_upstream_endpoint_healthy", "1 if active health checking considers the endpoint healthy", healthy)
        gauge("herz_upstream_endpoint_ejected", "1 while outlier detection ejects the endpoint", ejected)
        counter("herz_lb_picks_total", "Load-balancer picks per endpoint", picks)
        counter("herz_upstream_failures_total", "Upstream attempts that failed (5xx, reset, connect failure, timeout)", failures)
        counter("herz_outlier_ejections_total", "Outlier ejections per endpoint", ejections)
        gauge("herz_upstream_requests_active", "Requests in flight per cluster", active)
        let coprocessors = kernel.coprocessors.status()
        let coprocLabels = { (status: CoprocessorStatus) in "{coprocessor=\"\(escape(status.name))\"}" }
        gauge("herz_coproc_up", "1 while a session of the coprocessor takes calls",
              coprocessors.map { (coprocLabels($0), $0.activeSession == nil ? 0 : 1) })
        counter("herz_coproc_restarts_total", "Sessions lost after they were ready (crash, kill, hang, protocol violation)",
                coprocessors.map { (coprocLabels($0), Int($0.restarts)) })
        counter("herz_coproc_handshakes_total", "Successful coprocessor handshakes (first attach, restarts, upgrades)",
                coprocessors.map { (coprocLabels($0), Int($0.handshakes)) })
        out += flowClusterFamilies()
        out += FlowMetricsExposition(engine: kernel.flowControl).render()
        return out
    }

    func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: " ")
    }
}
