import NIOCore
import Yams

/// Decodes one `clusters:` item.
enum ClusterDecoder {
    static let keys = ["name", "lb_policy", "endpoints", "protocol", "upstream_protocol", "connect_timeout",
                       "circuit_breakers", "health_check", "outlier_detection", "subset", "ring_hash", "maglev",
                       "idle_timeout", "tls"]

    /// The cluster (nil if any field was bad) and its name with where it was written (if readable).
    static func decode(_ node: Node, _ what: String, _ context: ConfigDecodingContext)
        -> (cluster: ClusterConfig?, name: (value: String, node: Node)?) {
        let errorsBefore = context.errors.count
        guard let map = context.map(node, what, known: keys, required: ["name", "endpoints"]) else { return (nil, nil) }
        let name = map.string("name")
        var cluster = ClusterConfig(name: name ?? "", endpoints: [])
        if let policy = map.choice("lb_policy", as: ClusterConfig.LBPolicy.self) { cluster.lbPolicy = policy }

        if let items = map.list("endpoints") {
            if items.isEmpty {
                context.report(.invalidValue(field: map.field("endpoints"), value: "[]", reason: "a cluster needs at least one endpoint"), at: map["endpoints"])
            }
            for (index, item) in items.enumerated() {
                if let endpoint = decodeEndpoint(item, "\(map.field("endpoints"))[\(index)]", context) { cluster.endpoints.append(endpoint) }
            }
        }

        switch map.atMostOne(of: ["protocol", "upstream_protocol"]) {
        case let key?: if let value = map.choice(key, as: ClusterConfig.UpstreamProtocol.self) { cluster.upstreamProtocol = value }
        case nil: break
        }
        if let value = map.duration("connect_timeout", allowZero: false) { cluster.connectTimeout = value }
        if let tls = map.map("tls", known: TLSDecoder.clusterKeys) {
            cluster.tls = TLSDecoder.decodeCluster(tls, upstream: cluster.upstreamProtocol, context)
        }
        if let value = map.duration("idle_timeout", allowZero: false) { cluster.idleConnectionTimeout = value }

        if let breakers = map.map("circuit_breakers", known: ["max_connections", "max_pending_requests", "max_requests", "max_retries"]) {
            var value = CircuitBreakerConfig()
            if let n = breakers.int("max_connections", range: 1...Int.max) { value.maxConnections = n }
            if let n = breakers.int("max_pending_requests", range: 0...Int.max) { value.maxPendingRequests = n }
            if let n = breakers.int("max_requests", range: 1...Int.max) { value.maxRequests = n }
            if let n = breakers.int("max_retries", range: 0...Int.max) { value.maxRetries = n }
            cluster.circuitBreakers = value
        }
        if let check = map.map("health_check", known: ["interval", "timeout", "healthy_threshold", "unhealthy_threshold", "path", "expected_statuses"]) {
            cluster.healthCheck = decodeHealthCheck(check, context)
        }
        if let outlier = map.map("outlier_detection", known: ["consecutive_5xx", "base_ejection_time", "max_ejection_time", "max_ejection_percent"]) {
            var value = OutlierDetectionConfig()
            if let n = outlier.int("consecutive_5xx", range: 1...Int.max) { value.consecutive5xx = n }
            if let t = outlier.duration("base_ejection_time", allowZero: false) { value.baseEjectionTime = t }
            if let t = outlier.duration("max_ejection_time", allowZero: false) { value.maxEjectionTime = t }
            if let n = outlier.int("max_ejection_percent", range: 0...100) { value.maxEjectionPercent = n }
            if value.maxEjectionTime < value.baseEjectionTime {
                context.report(.invalidValue(field: outlier.field("max_ejection_time"), value: DurationParser.format(value.maxEjectionTime),
                                             reason: "must be at least base_ejection_time"), at: outlier["max_ejection_time"] ?? outlier.node)
            }
            cluster.outlierDetection = value
        }
        if let subset = map.map("subset", known: ["selectors", "fallback_policy", "default_subset"], required: ["selectors"]) {
            cluster.subset = decodeSubset(subset, context)
        }
        if let ring = map.map("ring_hash", known: ["minimum_ring_size"]),
           let size = ring.int("minimum_ring_size", range: 1...8_388_608) {
            cluster.ringHashMinimumRingSize = size
        }
        if let maglev = map.map("maglev", known: ["table_size"]), let size = maglev.int("table_size", range: 2...5_000_011) {
            if isPrime(size) {
                cluster.maglevTableSize = size
            } else {
                context.report(.invalidValue(field: maglev.field("table_size"), value: String(size), reason: "must be a prime (e.g. 65537)"), at: maglev["table_size"])
            }
        }

        let nameInfo = name.map { ($0, map["name"] ?? node) }
        return (context.errors.count == errorsBefore ? cluster : nil, nameInfo)
    }

    static func decodeEndpoint(_ node: Node, _ what: String, _ context: ConfigDecodingContext) -> EndpointConfig? {
        if case .scalar = node {   // short form: "127.0.0.1:9001"
            return context.hostPort(node, what).map { EndpointConfig(address: $0) }
        }
        guard let map = context.map(node, what, known: ["address", "weight", "metadata"], required: ["address"]),
              let address = map.hostPort("address") else { return nil }
        var endpoint = EndpointConfig(address: address)
        if let weight = map.int("weight", range: 1...1_000_000) { endpoint.weight = weight }
        if let metadata = map.stringMap("metadata") { endpoint.metadata = metadata }
        return endpoint
    }

    static func decodeHealthCheck(_ map: YAMLMap, _ context: ConfigDecodingContext) -> HealthCheckConfig {
        var value = HealthCheckConfig()
        if let t = map.duration("interval", allowZero: false) { value.interval = t }
        if let t = map.duration("timeout", allowZero: false) { value.timeout = t }
        if let n = map.int("healthy_threshold", range: 1...Int.max) { value.healthyThreshold = n }
        if let n = map.int("unhealthy_threshold", range: 1...Int.max) { value.unhealthyThreshold = n }
        if let path = map.string("path") {
            if path.hasPrefix("/") { value.path = path } else {
                context.report(.invalidValue(field: map.field("path"), value: path, reason: "must start with '/'"), at: map["path"])
            }
        }
        if let items = map.list("expected_statuses") {
            var ranges: [ClosedRange<Int>] = []
            for item in items {
                guard let text = context.string(item, map.field("expected_statuses")) else { continue }
                let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingASCIISpaces()) }
                if parts.count == 1, let status = parts[0], (100...599).contains(status) {
                    ranges.append(status...status)
                } else if parts.count == 2, let low = parts[0], let high = parts[1], (100...599).contains(low), (low...599).contains(high) {
                    ranges.append(low...high)
                } else {
                    context.report(.invalidValue(field: map.field("expected_statuses"), value: text,
                                                 reason: "expected a status 100...599 or a range like \"200-299\""), at: item)
                }
            }
            if items.isEmpty { context.report(.invalidValue(field: map.field("expected_statuses"), value: "[]", reason: "must not be empty"), at: map["expected_statuses"]) }
            if !ranges.isEmpty { value.expectedStatuses = ranges }
        }
        return value
    }

    static func decodeSubset(_ map: YAMLMap, _ context: ConfigDecodingContext) -> SubsetConfig {
        var selectors: [[String]] = []
        for item in map.list("selectors") ?? [] {
            if let keys = context.stringList(item, map.field("selectors")) {
                if keys.isEmpty { context.report(.invalidValue(field: map.field("selectors"), value: "[]", reason: "a selector needs at least one key"), at: item) }
                else { selectors.append(keys) }
            }
        }
        var subset = SubsetConfig(selectors: selectors)
        if let fallback = map.choice("fallback_policy", as: SubsetConfig.Fallback.self) { subset.fallback = fallback }
        if let defaults = map.stringMap("default_subset") { subset.defaultSubset = defaults }
        if subset.fallback == .defaultSubset, subset.defaultSubset.isEmpty {
            context.report(.missingField(field: "default_subset", in: "\(map.what) (fallback_policy: default_subset)"), at: map.node)
        }
        return subset
    }

    static func isPrime(_ n: Int) -> Bool {
        if n < 2 { return false }
        if n < 4 { return true }
        if n % 2 == 0 { return false }
        var divisor = 3
        while divisor * divisor <= n { if n % divisor == 0 { return false }; divisor += 2 }
        return true
    }
}

extension ClusterConfig.UpstreamProtocol: CaseIterable {
    public static var allCases: [Self] { [.http1, .http2] }
}
extension SubsetConfig.Fallback: CaseIterable {
    public static var allCases: [Self] { [.noFallback, .anyEndpoint, .defaultSubset] }
}
