import NIOCore
import Yams

/// Decodes the traffic-feature config: a route's `request_mirror_policies` and the `fault`
/// filter's `config` (docs/traffic-features.md).
enum TrafficFeatureDecoder {
    static let faultKeys = ["delay", "abort", "headers_enabled", "max_active_faults", "disabled"]

    /// `percent: N`, a number in 0...100 (decimals allowed); absent = 100.
    static func percent(_ map: YAMLMap, _ key: String, _ context: ConfigDecodingContext) -> Percentage? {
        guard let node = map[key] else { return .all }
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value.isFinite else {
            context.report(.wrongType(field: map.field(key), expected: "a number in 0...100", found: ConfigDecodingContext.describe(node)), at: node)
            return nil
        }
        guard (0...100).contains(value) else {
            context.report(.invalidValue(field: map.field(key), value: scalar.string, reason: "must be in 0...100"), at: node)
            return nil
        }
        return Percentage(percent: value)
    }

    /// `request_mirror_policies: [{ cluster, percent?, max_body_bytes? }]`; each cluster joins
    /// `references` (an unknown one is reported like a route's own cluster).
    static func decodeMirrorPolicies(_ items: [Node], _ what: String, _ context: ConfigDecodingContext,
                                     _ references: inout [ClusterReference]) -> [RequestMirrorPolicy] {
        items.enumerated().compactMap { index, item in
            guard let map = context.map(item, "\(what)[\(index)]", known: ["cluster", "percent", "max_body_bytes"], required: ["cluster"]),
                  let cluster = map.string("cluster") else { return nil }
            references.append(ClusterReference(name: cluster, node: map["cluster"]!))
            let percent = percent(map, "percent", context)
            let maxBody = map.has("max_body_bytes") ? map.byteSize("max_body_bytes") : RequestMirrorPolicy.defaultMaxBodyBytes
            guard let percent, let maxBody else { return nil }
            return RequestMirrorPolicy(cluster: cluster, percent: percent, maxBodyBytes: maxBody)
        }
    }

    /// The `fault` filter's `config` (or a route's override).
    static func decodeFault(_ node: Node?, _ what: String, at typeNode: Node, isOverride: Bool, _ context: ConfigDecodingContext) -> FaultFilterConfig? {
        guard let node else { context.report(.missingField(field: "config", in: what), at: typeNode); return nil }
        guard let map = context.map(node, what, known: faultKeys) else { return nil }
        let errorsBefore = context.errors.count
        var config = FaultFilterConfig()
        if map.has("disabled") {
            if !isOverride {
                context.report(.invalidValue(field: map.field("disabled"), value: "true", reason: "only a route's per_filter_config may disable the fault filter"), at: map["disabled"])
            }
            config.disabled = map.bool("disabled") ?? false
        }
        if let delay = map.map("delay", known: ["fixed_delay", "percent"], required: ["fixed_delay"]) {
            let fixed = delay.duration("fixed_delay")
            let percent = percent(delay, "percent", context)
            if let fixed, let percent { config.delay = .init(fixed: fixed, percent: percent) }
        }
        if let abort = map.map("abort", known: ["http_status", "grpc_status", "percent"]) {
            let percent = percent(abort, "percent", context)
            var kind: FaultFilterConfig.Abort.Kind?
            switch abort.exactlyOne(of: ["http_status", "grpc_status"]) {
            case "http_status"?: kind = abort.int("http_status", range: 200...599).map { .http($0) }
            case "grpc_status"?: kind = abort.int("grpc_status", range: 0...16).map { .grpc($0) }
            default: break
            }
            if let kind, let percent { config.abort = .init(kind: kind, percent: percent) }
        }
        config.headersEnabled = map.bool("headers_enabled") ?? false
        if map.has("max_active_faults") { config.maxActiveFaults = map.int("max_active_faults", range: 0...Int.max) }
        return context.errors.count == errorsBefore ? config : nil
    }
}
