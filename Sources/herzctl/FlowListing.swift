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

    var generation: Int?
    var rulesFile: String?
    var lastError: String?
    var rules: [Rule]
    var store: Store?

    enum CodingKeys: String, CodingKey {
        case generation, rules, store
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
        return (lines + [table.rendered()]).joined(separator: "\n")
    }

    private static func state(_ limit: Limit) -> String {
        guard let first = limit.state?.first else { return limit.scope == "global" ? "(in the store)" : "-" }
        let value = first.tokens.map { String(format: "%.1f tokens", $0) } ?? first.inFlight.map { "\($0) in flight" } ?? "-"
        let key = first.key.isEmpty ? "" : "\(first.key): "
        let more = (limit.state?.count ?? 0) > 1 ? " (+\((limit.state?.count ?? 1) - 1) keys)" : ""
        return key + value + more
    }
}
