import Foundation
import NIOCore
import Yams

/// Decodes `flow_control: { rules: FILE, store: { address, username, password, call_timeout, max_batch } }`
/// and reads, parses and checks the rules file. Every diagnostic of the rules file becomes one
/// ``ConfigError`` at its own `rules-file:line:col`, next to the YAML file's errors.
enum FlowControlDecoder {
    static let keys = ["rules", "store"]
    static let storeKeys = ["address", "username", "password", "call_timeout", "max_batch"]

    /// `clusters` are the YAML clusters' names, which `cluster "…"` blocks must name.
    static func decode(_ node: Node, clusters: Set<String>, _ context: ConfigDecodingContext) -> FlowControlConfig? {
        guard let map = context.map(node, "flow_control", known: keys, required: ["rules"]) else { return nil }
        var store: FlowStoreConfig?
        if let storeMap = map.map("store", known: storeKeys, required: ["address"]) {
            store = decodeStore(storeMap)
        }
        guard let file = map.string("rules") else { return nil }
        let path = context.resolvePath(file)
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            context.report(.fileNotFound(field: map.field("rules"), path: path), at: map["rules"])
            return nil
        }
        let rules: FlowRules
        do {
            rules = try FlowRules.parse(source: text, file: path)
        } catch {
            for diagnostic in error.diagnostics { context.report(flow: diagnostic) }
            return nil
        }
        var valid = true
        for cluster in rules.clusters where !clusters.contains(cluster.name) {
            context.report(flow: FlowDiagnostic(.unknownCluster(cluster.name, known: clusters.sorted()), at: cluster.location))
            valid = false
        }
        let config = FlowControlConfig(rulesFile: file, rulesPath: path, rules: rules, store: store)
        if config.usesGlobalLimits && store == nil && map.has("store") == false {
            context.report(.missingField(field: "store", in: "flow_control (the rules have scope: global limits)"), at: node)
            valid = false
        }
        return valid ? config : nil
    }

    private static func decodeStore(_ map: YAMLMap) -> FlowStoreConfig? {
        guard let address = map.hostPort("address") else { return nil }
        var store = FlowStoreConfig(address: address, username: map.string("username"), password: map.string("password"))
        if let timeout = map.duration("call_timeout", allowZero: false) {
            if timeout < .milliseconds(1) || timeout > .seconds(10) {
                map.context.report(.invalidValue(field: map.field("call_timeout"), value: DurationParser.format(timeout),
                                                 reason: "must be 1ms to 10s"), at: map["call_timeout"])
            } else {
                store.callTimeout = timeout
            }
        }
        if let batch = map.int("max_batch", range: 1...1_000_000) { store.maxBatch = batch }
        return store
    }
}
