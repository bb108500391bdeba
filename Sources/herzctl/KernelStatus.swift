import Foundation

/// The kernel's `GET /status` answer.
///
/// Decoding is lenient: every field but `ready` may be missing, and `listeners` / `clusters`
/// may be lists of names or of objects with a `name`, so herzctl keeps working while the kernel's
/// answer grows.
struct KernelStatus: Decodable, Equatable {
    var ready: Bool
    var version: String?
    var configSource: String?
    var listeners: NameList?
    var clusters: NameList?
    var reloads: Int?
    var lastReloadError: String?
    var uptimeSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case ready, version, listeners, clusters, reloads
        case configSource = "config_source"
        case lastReloadError = "last_reload_error"
        case uptimeSeconds = "uptime_seconds"
    }

    static func decode(_ json: String) throws -> KernelStatus {
        try JSONDecoder().decode(KernelStatus.self, from: Data(json.utf8))
    }

    /// The readable rendering printed by `herzctl status`, one `key: value` per line.
    func rendered() -> String {
        var rows: [(String, String)] = [("ready", ready ? "yes" : "no")]
        if let version { rows.append(("version", version)) }
        if let configSource { rows.append(("config source", configSource)) }
        if let uptimeSeconds { rows.append(("uptime", Self.duration(uptimeSeconds))) }
        if let listeners { rows.append(("listeners", listeners.summary)) }
        if let clusters { rows.append(("clusters", clusters.summary)) }
        if let reloads { rows.append(("reloads", String(reloads))) }
        rows.append(("last reload error", lastReloadError ?? "none"))
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { key, value in
            (key + ":").padding(toLength: width + 2, withPad: " ", startingAt: 0) + value
        }.joined(separator: "\n")
    }

    /// `3725` → `1h02m05s`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        if h > 0 { return String(format: "%dh%02dm%02ds", h, m, s) }
        if m > 0 { return String(format: "%dm%02ds", m, s) }
        return "\(s)s"
    }
}

/// A list of names decoded from `["a","b"]` or `[{"name":"a",…},…]`.
struct NameList: Decodable, Equatable {
    var names: [String]

    init(_ names: [String]) { self.names = names }

    init(from decoder: Decoder) throws {
        struct Named: Decodable { var name: String }
        let container = try decoder.singleValueContainer()
        if let names = try? container.decode([String].self) {
            self.names = names
        } else {
            self.names = try container.decode([Named].self).map(\.name)
        }
    }

    /// `2 (public, internal)`.
    var summary: String {
        names.isEmpty ? "0" : "\(names.count) (\(names.joined(separator: ", ")))"
    }
}
