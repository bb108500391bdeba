import Foundation

/// The kernel's `GET /clusters` answer: every cluster with its endpoints' live state.
///
/// Decoding is lenient about missing per-endpoint counters (shown as `-`).
struct ClusterListing: Decodable, Equatable {
    struct Cluster: Decodable, Equatable {
        var name: String
        var lbPolicy: String?
        var endpoints: [Endpoint]

        enum CodingKeys: String, CodingKey {
            case name, endpoints
            case lbPolicy = "lb_policy"
        }
    }

    struct Endpoint: Decodable, Equatable {
        var address: String
        var weight: Int?
        var healthy: Bool?
        var ejected: Bool?
        var activeRequests: Int?
        var requests: Int?
        var failures: Int?

        enum CodingKeys: String, CodingKey {
            case address, weight, healthy, ejected, requests, failures
            case activeRequests = "active_requests"
        }
    }

    var clusters: [Cluster]

    static func decode(_ json: String) throws -> ClusterListing {
        try JSONDecoder().decode(ClusterListing.self, from: Data(json.utf8))
    }

    /// The table printed by `herzctl clusters`: one row per endpoint, a cluster without
    /// endpoints gets one row with `-`.
    func rendered() -> String {
        var table = TextTable(header: [
            "CLUSTER", "POLICY", "ENDPOINT", "WEIGHT", "HEALTH", "EJECTED", "ACTIVE", "REQUESTS", "FAILURES",
        ])
        func text(_ n: Int?) -> String { n.map(String.init) ?? "-" }
        for cluster in clusters {
            let policy = cluster.lbPolicy ?? "-"
            if cluster.endpoints.isEmpty {
                table.add([cluster.name, policy, "-", "-", "-", "-", "-", "-", "-"])
            }
            for e in cluster.endpoints {
                let health = e.healthy.map { $0 ? "healthy" : "unhealthy" } ?? "-"
                let ejected = e.ejected.map { $0 ? "yes" : "no" } ?? "-"
                table.add([
                    cluster.name, policy, e.address, text(e.weight), health, ejected,
                    text(e.activeRequests), text(e.requests), text(e.failures),
                ])
            }
        }
        return table.rendered()
    }
}
