import Foundation

/// The kernel's `GET /flow` answer, as much of it as `herzctl flow` prints. Lenient: fields it
/// does not know (sections added later) are ignored, missing counters print as `-`.
struct FlowListing: Decodable, Equatable {
    struct Rule: Decodable, Equatable {
        var name: String
        var onLimit: String?
        var counts: [String: Int]?
        var limits: [Limit]

        enum CodingKeys: String, CodingKey {
            case name, counts, limits
            case onLimit = "on_limit"
        }
    }

    struct Limit: Decodable, Equatable {
        var limit: String
        var scope: String?
        var keys: Int?
        var state: [KeyState]?
    }

    struct KeyState: Decodable, Equatable {
        var key: String
        var tokens: Double?
        var inFlight: Int?

        enum CodingKeys: String, CodingKey {
            case key, tokens
            case inFlight = "in_flight"
        }
    }

    struct Store: Decodable, Equatable {
        var address: String
        var workers: [Worker]?
    }

    struct Worker: Decodable, Equatable {
        var circuit: String
        var waiting: Int?
    }

    /// The `clusters` key: `GET /flow/clusters`' body.
    struct Clusters: Decodable, Equatable {
        var windowSeconds: Double?
        var clusters: [Cluster]

        enum CodingKeys: String, CodingKey {
            case clusters
            case windowSeconds = "window_seconds"
        }
    }

    struct Cluster: Decodable, Equatable {
        var name: String
        var lbPolicy: String?
        var weightsApplied: Bool?
        var breaker: Breaker?
        var endpoints: [Endpoint]

        enum CodingKeys: String, CodingKey {
            case name, breaker, endpoints
            case lbPolicy = "lb_policy"
            case weightsApplied = "weights_applied"
        }
    }

    struct Breaker: Decodable, Equatable {
        var state: String
        var openForMs: Int?
        var rejected: Int?

        enum CodingKeys: String, CodingKey {
            case state, rejected
            case openForMs = "open_for_ms"
        }
    }

    struct Endpoint: Decodable, Equatable {
        var address: String
        var configuredWeight: Int?
        var dynamicWeight: Int?
        var p95Ms: Double?
        var requests: Int?
        var errorRate: Double?
        var ejected: Bool?

        enum CodingKeys: String, CodingKey {
            case address, requests, ejected
            case configuredWeight = "configured_weight"
            case dynamicWeight = "dynamic_weight"
            case p95Ms = "p95_ms"
            case errorRate = "error_rate"
        }
    }

    var generation: Int?
    var rulesFile: String?
    var lastError: String?
    var rules: [Rule]
    var store: Store?
    var clusters: Clusters?

    enum CodingKeys: String, CodingKey {
        case generation, rules, store, clusters
        case rulesFile = "rules_file"
        case lastError = "last_error"
    }

    static func decode(_ json: String) throws -> FlowListing {
        try JSONDecoder().decode(FlowListing.self, from: Data(json.utf8))
    }

    /// A header line (rules file, generation, store, last error), then one row per limit: the
    /// rule's counts on its first row, the limit's keys and the state of its first key.
    func rendered() -> String {
        var lines = ["rules: \(rulesFile ?? "none") (generation \(generation.map(String.init) ?? "-"))"]
        if let store {
            let circuits = (store.workers ?? []).map(\.circuit)
            lines.append("store: \(store.address) (circuit per worker: \(circuits.isEmpty ? "-" : circuits.joined(separator: ", ")))")
        }
        if let lastError { lines.append("last rejected rules file:\n  " + lastError.split(separator: "\n").joined(separator: "\n  ")) }
        var table = TextTable(header: ["RULE", "ON_LIMIT", "ALLOWED", "DELAYED", "LIMITED", "SHADOWED", "LIMIT", "KEYS", "STATE"])
        func count(_ rule: Rule, _ name: String) -> String { rule.counts?[name].map(String.init) ?? "-" }
        for rule in rules {
            let first = [rule.name, rule.onLimit ?? "-", count(rule, "allowed"), count(rule, "delayed"), count(rule, "limited"),
                         count(rule, "shadowed")]
            let blank = Array(repeating: "", count: first.count)
            if rule.limits.isEmpty { table.add(first + ["-", "-", "-"]) }
            for (index, limit) in rule.limits.enumerated() {
                table.add((index == 0 ? first : blank) + [limit.limit, limit.keys.map(String.init) ?? "-", Self.state(limit)])
            }
        }
        lines.append(table.rendered())
        if let clusters, !clusters.clusters.isEmpty { lines.append(Self.rendered(clusters)) }
        return lines.joined(separator: "\n")
    }

    /// One row per endpoint of each `cluster` block: the breaker on the cluster's first row, the
    /// weight in force (dynamic, else configured; `*` when the balancer keeps configured weights)
    /// and what was measured over the window.
    private static func rendered(_ section: Clusters) -> String {
        var table = TextTable(header: ["CLUSTER", "BREAKER", "ENDPOINT", "WEIGHT", "P95", "REQUESTS", "ERRORS", "EJECTED"])
        for cluster in section.clusters {
            var breaker = cluster.breaker.map(\.state) ?? "-"
            if let ms = cluster.breaker?.openForMs { breaker += " (\(ms)ms left)" }
            if let rejected = cluster.breaker?.rejected, rejected > 0 { breaker += ", \(rejected) refused" }
            let first = [cluster.name, breaker]
            if cluster.endpoints.isEmpty { table.add(first + ["-", "-", "-", "-", "-", "-"]) }
            for (index, endpoint) in cluster.endpoints.enumerated() {
                var weight = (endpoint.dynamicWeight ?? endpoint.configuredWeight).map(String.init) ?? "-"
                if cluster.weightsApplied == false { weight += "*" }
                table.add((index == 0 ? first : ["", ""]) + [
                    endpoint.address, weight, endpoint.p95Ms.map { String(format: "%.1fms", $0) } ?? "-",
                    endpoint.requests.map(String.init) ?? "-",
                    endpoint.errorRate.map { String(format: "%.1f%%", $0 * 100) } ?? "-",
                    endpoint.ejected == true ? "yes" : "no",
                ])
            }
        }
        let window = section.windowSeconds.map { String(format: "%.0fs", $0) } ?? "-"
        return "clusters (measured over the last \(window); * = weights fixed by ring_hash/maglev):\n" + table.rendered()
    }

    private static func state(_ limit: Limit) -> String {
        guard let first = limit.state?.first else { return limit.scope == "global" ? "(in the store)" : "-" }
        let value = first.tokens.map { String(format: "%.1f tokens", $0) } ?? first.inFlight.map { "\($0) in flight" } ?? "-"
        let key = first.key.isEmpty ? "" : "\(first.key): "
        let more = (limit.state?.count ?? 0) > 1 ? " (+\((limit.state?.count ?? 1) - 1) keys)" : ""
        return key + value + more
    }
}
