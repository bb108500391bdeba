import Foundation
import NIOCore
import Yams

/// Turns a YAML config (ARCHITECTURE.md §5) into a validated ``HerzConfig``.
///
/// The whole file is checked before anything is returned: unknown keys, wrong types, bad values
/// and broken references (a route naming a missing cluster, duplicate names…) are all collected
/// and thrown together as ``ConfigErrors``, one `file:line:col: message` per problem. Pure and
/// stateless; call it from any thread (reload runs it off the event loops, then swaps).
public enum ConfigLoader {
    /// Reads and parses the file at `path`; errors name `path`.
    ///
    /// - Parameter extraCoprocessors: coprocessors given outside the file (the kernel's
    ///   `--coproc NAME=unix:PATH` flags, see ``CoprocessorConfig/parseFlag(_:)``), added to the
    ///   file's `coprocessors:` list before validation: one whose name the file already defines
    ///   replaces that entry's endpoint (its timeout and failure policy stay), others are appended
    ///   with the defaults. `coproc` filters may name any of them.
    public static func load(path: String, extraCoprocessors: [CoprocessorConfig] = []) throws -> HerzConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigErrors([ConfigError(.unreadable(reason: (error as NSError).localizedDescription),
                                            at: SourceLocation(file: path, line: 0, column: 0))])
        }
        return try parse(yaml: text, source: path, extraCoprocessors: extraCoprocessors)
    }

    /// Parses `yaml`; `source` names it in errors (a path, or `<built-in>`). Relative TLS paths
    /// are checked against the current directory, as they will be opened. `extraCoprocessors` as in
    /// ``load(path:extraCoprocessors:)``.
    public static func parse(yaml: String, source: String, extraCoprocessors: [CoprocessorConfig] = []) throws -> HerzConfig {
        let context = ConfigDecodingContext(source: source)
        context.extraCoprocessors = extraCoprocessors
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigErrors([syntaxError(error, source: source)])
        }
        guard let root else {
            throw ConfigErrors([ConfigError(.yamlSyntax("the document is empty"), at: SourceLocation(file: source, line: 1, column: 1))])
        }
        let config = decodeRoot(root, context)
        if !context.errors.isEmpty || config == nil {
            throw ConfigErrors(context.errors)
        }
        return config!
    }

    /// The config used when the kernel starts without `--config`: plain HTTP on `0.0.0.0:8080`
    /// forwarding everything to the cluster `demo` at `127.0.0.1:9001`, admin on `127.0.0.1:9901`.
    public static let builtInDemo = builtInDemo(exampleCoprocessor: false)

    /// ``builtInDemo``, plus — when the kernel was given `--coproc example=unix:PATH` (scripts/demo
    /// starts `herz-filter-example` there) — a `coproc` filter calling it on `/example/…`, which is
    /// forwarded to the demo upstream's `/echo`; every other route has the filter switched off.
    public static func builtInDemo(exampleCoprocessor: Bool) -> String {
        let coproc = exampleCoprocessor
            ? "\n      - type: \"coproc\"\n        config: { coprocessor: \"example\", phases: [request_headers, request_body, response_headers] }"
            : ""
        let exampleRoute = exampleCoprocessor
            ? "\n                - match: { prefix: \"/example/\" }\n                  route: { cluster: \"demo\", prefix_rewrite: \"/echo\" }"
            : ""
        let offElsewhere = exampleCoprocessor ? "\n                  per_filter_config: { coproc: { disabled: true } }" : ""
        return """
        admin:
          address: "127.0.0.1:9901"
        listeners:
          - name: "demo"
            address: "0.0.0.0:8080"
            protocol: "http"
            filters:\(coproc)
              - type: "router"
                config:
                  virtual_hosts:
                    - name: "demo"
                      domains: ["*"]
                      routes:\(exampleRoute)
                        - match: { prefix: "/" }
                          route: { cluster: "demo" }\(offElsewhere)
        clusters:
          - name: "demo"
            lb_policy: "round_robin"
            endpoints:
              - { address: "127.0.0.1:9001" }

        """
    }

    // MARK: - Top level

    static let rootKeys = ["admin", "listeners", "clusters", "coprocessors", "access_log", "drain_timeout", "flow_control", "tracing"]

    static func decodeRoot(_ root: Node, _ context: ConfigDecodingContext) -> HerzConfig? {
        guard let map = context.map(root, "config", known: rootKeys, required: ["listeners"]) else { return nil }
        var config = HerzConfig(listeners: [], clusters: [], source: context.source)

        if let node = map["admin"], let admin = context.map(node, "admin", known: ["address"], required: ["address"]),
           let address = admin.hostPort("address", allowPortZero: true) {
            config.admin = AdminConfig(address: address)
        }
        if let node = map["access_log"], let log = context.map(node, "access_log", known: ["path", "format"]) {
            config.accessLog = AccessLogConfig(path: log.string("path") ?? "stdout",
                                               format: log.choice("format", as: AccessLogConfig.Format.self) ?? .json)
        }
        if let drain = map.duration("drain_timeout") { config.drainTimeout = drain }
        if let node = map["tracing"] { config.tracing = TracingDecoder.decode(node, context) }

        var coprocessorNames = UniqueNames(what: "coprocessor name", context: context)
        for (index, node) in (map.list("coprocessors") ?? []).enumerated() {
            if let coprocessor = decodeCoprocessor(node, "coprocessors[\(index)]", context) {
                coprocessorNames.insert(coprocessor.name, at: node.mapping?["name"] ?? node)
                config.coprocessors.append(coprocessor)
            }
        }
        for extra in context.extraCoprocessors {
            if let index = config.coprocessors.firstIndex(where: { $0.name == extra.name }) {
                config.coprocessors[index].endpoint = extra.endpoint
            } else {
                config.coprocessors.append(extra)
            }
        }

        var clusterNames = UniqueNames(what: "cluster name", context: context)
        var definedClusters = Set<String>()
        for (index, node) in (map.list("clusters") ?? []).enumerated() {
            let decoded = ClusterDecoder.decode(node, "clusters[\(index)]", context)
            if let name = decoded.name {
                // A cluster with other errors still counts as defined, so routes to it are not
                // reported a second time as unknown.
                clusterNames.insert(name.value, at: name.node)
                definedClusters.insert(name.value)
            }
            if let cluster = decoded.cluster { config.clusters.append(cluster) }
        }

        var routeRefs: [ClusterReference] = []
        var listenerNames = UniqueNames(what: "listener name", context: context)
        var listenerAddresses = UniqueNames(what: "listener address", context: context)
        if let admin = config.admin, admin.address.port != 0 { listenerAddresses.insert(admin.address.description, at: map["admin"]?.mapping?["address"] ?? root) }
        if let items = map.list("listeners") {
            if items.isEmpty { context.report(.invalidValue(field: "listeners", value: "[]", reason: "at least one listener is needed"), at: map["listeners"]) }
            for (index, node) in items.enumerated() {
                let decoded = ListenerDecoder.decode(node, "listeners[\(index)]", context)
                routeRefs += decoded.clusterReferences
                guard let listener = decoded.listener else { continue }
                let listenerMap = node.mapping
                listenerNames.insert(listener.name, at: listenerMap?["name"] ?? listenerMap?["address"] ?? node)
                // QUIC listens on UDP: it may share its address with a TCP listener (and does, to be advertised by Alt-Svc).
                let transport = listener.protocol == .quic ? "udp " : ""
                if listener.address.port != 0 { listenerAddresses.insert(transport + listener.address.description, at: listenerMap?["address"] ?? node) }
                config.listeners.append(listener)
            }
        }

        if let node = map["flow_control"] {
            config.flowControl = FlowControlDecoder.decode(node, clusters: definedClusters, context)
        } else {
            for filter in context.flowControlFilters {
                context.report(.missingField(field: "flow_control", in: "the config (a flow_control filter needs the rules: flow_control: { rules: FILE })"), at: filter)
            }
        }

        // References are checked last, against every cluster that parsed.
        for ref in routeRefs where !definedClusters.contains(ref.name) {
            context.report(.unknownCluster(ref.name), at: ref.node)
        }
        // Every name that parsed counts as defined (as for clusters), so one bad entry is reported once.
        let definedCoprocessors = Set(config.coprocessors.map(\.name)).union(coprocessorNames.names)
        for ref in context.coprocessorReferences where !ref.sizeOnly && !definedCoprocessors.contains(ref.name) {
            context.report(.unknownCoprocessor(ref.name, known: definedCoprocessors.sorted(), filter: ref.filterType), at: ref.node)
        }
        // aes_gcm must not fail open: bodies, headers and cookies would leave unencrypted or undecrypted.
        for ref in context.coprocessorReferences where !ref.sizeOnly && ref.filterType == "aes_gcm" {
            guard config.coprocessors.first(where: { $0.name == ref.name })?.onFailure == .failOpen else { continue }
            context.report(.invalidValue(field: "on_failure", value: "fail_open",
                                         reason: "coprocessor \(ref.name) serves an aes_gcm filter, which cannot fail open (it would pass "
                                             + "ciphertext or plaintext on unprocessed); use fail_closed or wait"), at: ref.node)
        }
        // A body the filter may send in one call must fit the coprocessor's ring frames.
        for ref in context.coprocessorReferences {
            guard let coprocessor = config.coprocessors.first(where: { $0.name == ref.name }),
                  ref.maxBodyBytes > coprocessor.maxCallBodyBytes else { continue }
            let what = ref.filterType == "aes_gcm" ? "max_body_bytes (with aes_gcm's encryption overhead)" : "max_body_bytes"
            context.report(.invalidValue(field: what, value: "\(ref.maxBodyBytes)",
                                         reason: "coprocessor \(ref.name) carries at most \(coprocessor.maxCallBodyBytes) body bytes per call "
                                             + "(ring_bytes \(coprocessor.ringBytes)); lower max_body_bytes or raise its ring_bytes"),
                           at: ref.maxBodyBytesNode ?? ref.node)
        }
        return config
    }

    static let coprocessorKeys = ["name", "endpoint", "timeout_ms", "timeout", "on_failure", "max_wait", "allowed_uids", "ring_bytes",
                                  "heartbeat_interval", "hung_after"]

    static func decodeCoprocessor(_ node: Node, _ what: String, _ context: ConfigDecodingContext) -> CoprocessorConfig? {
        guard let map = context.map(node, what, known: coprocessorKeys, required: ["name", "endpoint"]) else { return nil }
        let name = map.string("name")
        var endpoint = map.string("endpoint")
        if let value = endpoint, !(value.hasPrefix("unix:/") || value.hasPrefix("unix:.")) || value.count <= "unix:".count {
            context.report(.invalidValue(field: map.field("endpoint"), value: value, reason: "expected unix:/path/to.sock"), at: map["endpoint"])
            endpoint = nil
        }
        var coprocessor = CoprocessorConfig(name: name ?? "", endpoint: endpoint ?? "")
        switch map.atMostOne(of: ["timeout_ms", "timeout"]) {
        case "timeout_ms": if let ms = map.int("timeout_ms", range: 1...Int(Int32.max)) { coprocessor.timeout = .milliseconds(Int64(ms)) }
        case "timeout": if let value = map.duration("timeout", allowZero: false) { coprocessor.timeout = value }
        default: break
        }
        if let policy = map.choice("on_failure", as: CoprocessorConfig.FailurePolicy.self) { coprocessor.onFailure = policy }
        if let wait = map.duration("max_wait") { coprocessor.maxWait = wait }
        for (index, uidNode) in (map.list("allowed_uids") ?? []).enumerated() {
            if let uid = context.int(uidNode, "\(what).allowed_uids[\(index)]", range: 0...Int(UInt32.max)) {
                coprocessor.allowedUIDs.append(UInt32(uid))
            }
        }
        if let bytes = map.byteSize("ring_bytes") {
            if CoprocessorConfig.ringBytesRange.contains(bytes) && bytes & (bytes - 1) == 0 {
                coprocessor.ringBytes = bytes
            } else {
                context.report(.invalidValue(field: map.field("ring_bytes"), value: map.string("ring_bytes") ?? "\(bytes)",
                                             reason: "expected a power of two from 64KiB to 1GiB"), at: map["ring_bytes"])
            }
        }
        decodeHeartbeat(map, into: &coprocessor)
        guard name != nil, endpoint != nil else { return nil }
        return coprocessor
    }

    private static func decodeHeartbeat(_ map: YAMLMap, into coprocessor: inout CoprocessorConfig) {
        if let interval = map.duration("heartbeat_interval", allowZero: false) {
            if interval < .milliseconds(1) || interval > .seconds(1) {
                map.context.report(.invalidValue(field: map.field("heartbeat_interval"), value: DurationParser.format(interval),
                                                 reason: "must be 1ms to 1s"), at: map["heartbeat_interval"])
            } else {
                coprocessor.heartbeatInterval = interval
            }
        }
        if let hung = map.duration("hung_after", allowZero: false) {
            if hung < coprocessor.heartbeatInterval * 2 || hung > .seconds(60) {
                map.context.report(.invalidValue(field: map.field("hung_after"), value: DurationParser.format(hung),
                                                 reason: "must be at least twice heartbeat_interval (\(DurationParser.format(coprocessor.heartbeatInterval))) and at most 60s"),
                                   at: map["hung_after"])
            } else {
                coprocessor.hungAfter = hung
            }
        } else if coprocessor.hungAfter < coprocessor.heartbeatInterval * 2 {
            coprocessor.hungAfter = coprocessor.heartbeatInterval * 4
        }
    }

    static func syntaxError(_ error: YamlError, source: String) -> ConfigError {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: source, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let text = context.map { "\(problem) (\($0.text) at \($0.mark))" } ?? problem
            return ConfigError(.yamlSyntax(text), at: at(mark))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(.duplicateKey(duplicates.joined(separator: "', '")), at: at(context.mark))
        case .reader(let problem, _, _, _):
            return ConfigError(.yamlSyntax(problem), at: SourceLocation(file: source, line: 1, column: 1))
        default:
            return ConfigError(.yamlSyntax("\(error)"), at: SourceLocation(file: source, line: 1, column: 1))
        }
    }
}

extension CoprocessorConfig.FailurePolicy: CaseIterable {
    public static var allCases: [Self] { [.failClosed, .failOpen, .wait] }
}
extension AccessLogConfig.Format: CaseIterable {
    public static var allCases: [Self] { [.json, .envoy] }
}

/// A cluster name used by a route, with where it was written.
struct ClusterReference {
    var name: String
    var node: Node
}

/// Reports the second and later uses of a name that must be unique.
struct UniqueNames {
    let what: String
    let context: ConfigDecodingContext
    private var first: [String: Mark?] = [:]

    init(what: String, context: ConfigDecodingContext) { self.what = what; self.context = context }

    var names: Set<String> { Set(first.keys) }

    mutating func insert(_ name: String, at node: Node) {
        if let firstMark = first[name] {
            context.report(.duplicate(what: what, name: name, first: firstMark.map { context.location($0) }), at: node)
        } else {
            first[name] = node.mark
        }
    }
}
