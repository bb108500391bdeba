import Yams

/// Decodes the top-level `tracing:` block into a ``TracingConfig``.
enum TracingDecoder {
    static let keys = ["otlp_endpoint", "sampling_ratio", "service_name", "max_queue_spans", "max_batch_spans",
                       "export_interval", "export_timeout"]

    static func decode(_ node: Node, _ context: ConfigDecodingContext) -> TracingConfig? {
        guard let map = context.map(node, "tracing", known: keys, required: ["otlp_endpoint"]) else { return nil }
        let errorsBefore = context.errors.count
        guard let url = map.string("otlp_endpoint") else { return nil }
        guard let parsed = parseEndpoint(url) else {
            context.report(.invalidValue(field: "tracing.otlp_endpoint", value: url,
                                         reason: "must be http://HOST:PORT[/PATH] (OTLP/HTTP protobuf; https is not supported)"),
                           at: map["otlp_endpoint"])
            return nil
        }
        var config = TracingConfig(endpoint: parsed.0, path: parsed.1)
        if let node = map["sampling_ratio"] {
            let text = node.scalar?.string ?? ""
            if let ratio = Double(text), ratio >= 0, ratio <= 1 {
                config.samplingRatio = ratio
            } else {
                context.report(.invalidValue(field: "tracing.sampling_ratio", value: text, reason: "must be a number in 0...1"), at: node)
            }
        }
        if let name = map.string("service_name") { config.serviceName = name }
        if let value = map.int("max_queue_spans", range: 1...1_000_000) { config.maxQueueSpans = value }
        if let value = map.int("max_batch_spans", range: 1...100_000) { config.maxBatchSpans = value }
        if let value = map.duration("export_interval", allowZero: false) { config.exportInterval = value }
        if let value = map.duration("export_timeout", allowZero: false) { config.exportTimeout = value }
        return context.errors.count == errorsBefore ? config : nil
    }

    /// `http://HOST:PORT[/PATH]` → host:port and path (default `/v1/traces`).
    static func parseEndpoint(_ url: String) -> (HostPort, String)? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash == rest.endIndex ? "/v1/traces" : String(rest[slash...])
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(authority[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return (HostPort(host: host, port: port), path)
    }
}
