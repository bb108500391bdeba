import NIOCore
import Yams

/// Decodes the typed `config:` of the non-terminal HTTP filters (also used for a route's
/// `per_filter_config`).
enum FilterDecoder {
    /// Filter types a listener may list, the terminal `router` included.
    static let knownTypes = ["header_mutation", "buffer", "local_ratelimit", "coproc", "jwt_authn", "aes_gcm", "flow_control", "fault", "router"]
    static let overridableTypes = ["header_mutation", "buffer", "local_ratelimit", "coproc", "jwt_authn", "aes_gcm", "flow_control", "fault"]

    /// - Parameter isOverride: decoding a route's `per_filter_config` entry (`coproc` then also
    ///   accepts `disabled`; `jwt_authn` takes its per-route form).
    static func decode(type: String, config node: Node?, _ what: String, at typeNode: Node, isOverride: Bool = false,
                       _ context: ConfigDecodingContext) -> FilterConfig? {
        switch type {
        case "coproc":
            return CoprocFilterDecoder.decode(node, what, at: typeNode, isOverride: isOverride, context).map(FilterConfig.coproc)
        case "jwt_authn":
            if isOverride { return JWTAuthnDecoder.decodePerRoute(node, what, at: typeNode, context).map(FilterConfig.jwtAuthnPerRoute) }
            return JWTAuthnDecoder.decode(node, what, at: typeNode, context).map(FilterConfig.jwtAuthn)
        case "aes_gcm":
            if isOverride { return AESGCMDecoder.decodePerRoute(node, what, at: typeNode, context).map(FilterConfig.aesGCMPerRoute) }
            return AESGCMDecoder.decode(node, what, at: typeNode, context).map(FilterConfig.aesGCM)
        case "flow_control":
            if !isOverride { context.flowControlFilters.append(typeNode) }
            guard let node else { return .flowControl(FlowControlFilterConfig()) }
            guard let map = context.map(node, what, known: ["disabled"]) else { return nil }
            return .flowControl(FlowControlFilterConfig(disabled: map.bool("disabled") ?? false))
        case "fault":
            return TrafficFeatureDecoder.decodeFault(node, what, at: typeNode, isOverride: isOverride, context).map(FilterConfig.fault)
        case "header_mutation":
            guard let node else { return .headerMutation(.init()) }
            guard let map = context.map(node, what, known: ["request", "response"]) else { return nil }
            let request = map["request"].flatMap { decodeMutations($0, map.field("request"), context) } ?? .init()
            let response = map["response"].flatMap { decodeMutations($0, map.field("response"), context) } ?? .init()
            return .headerMutation(HeaderMutationConfig(request: request, response: response))
        case "buffer":
            guard let node else { context.report(.missingField(field: "config", in: what), at: typeNode); return nil }
            guard let map = context.map(node, what, known: ["max_request_bytes"], required: ["max_request_bytes"]),
                  let bytes = map.byteSize("max_request_bytes") else { return nil }
            return .buffer(BufferFilterConfig(maxRequestBytes: bytes))
        case "local_ratelimit":
            guard let node else { context.report(.missingField(field: "config", in: what), at: typeNode); return nil }
            guard let map = context.map(node, what, known: ["max_tokens", "tokens_per_fill", "fill_interval", "status_code"],
                                        required: ["max_tokens", "fill_interval"]) else { return nil }
            let maxTokens = map.int("max_tokens", range: 1...Int.max)
            let perFill = map.has("tokens_per_fill") ? map.int("tokens_per_fill", range: 1...Int.max) : maxTokens
            let interval = map.duration("fill_interval", allowZero: false)
            let status = map.has("status_code") ? map.int("status_code", range: 400...599) : 429
            guard let maxTokens, let perFill, let interval, let status else { return nil }
            return .localRateLimit(LocalRateLimitConfig(maxTokens: maxTokens, tokensPerFill: perFill, fillInterval: interval, statusCode: status))
        default:
            context.report(.unknownFilterType(type, known: knownTypes), at: typeNode)
            return nil
        }
    }

    /// `{ add: [{name, value, append}], remove: [names] }`.
    static func decodeMutations(_ node: Node, _ what: String, _ context: ConfigDecodingContext) -> HeaderMutations? {
        guard let map = context.map(node, what, known: ["add", "remove"]) else { return nil }
        var mutations = HeaderMutations()
        if let items = map.list("add") { mutations.add = decodeHeaderValues(items, map.field("add"), context) }
        if let names = map.stringList("remove") { mutations.remove = checkedNames(names, map.field("remove"), at: map["remove"]!, context) }
        return mutations
    }

    static func decodeHeaderValues(_ items: [Node], _ what: String, _ context: ConfigDecodingContext) -> [HeaderValueOption] {
        items.enumerated().compactMap { index, item in
            let field = "\(what)[\(index)]"
            guard let map = context.map(item, field, known: ["name", "value", "append"], required: ["name", "value"]),
                  let name = map.string("name"), let valueNode = map["value"],
                  let value = context.string(valueNode, map.field("value")) else { return nil }
            guard isToken(name) else {
                context.report(.invalidValue(field: map.field("name"), value: name, reason: "not a valid header name"), at: map["name"])
                return nil
            }
            if value.contains(where: { $0 == "\r" || $0 == "\n" }) {
                context.report(.invalidValue(field: map.field("value"), value: value, reason: "header values cannot contain CR or LF"), at: valueNode)
                return nil
            }
            return HeaderValueOption(name: name, value: value, append: map.bool("append") ?? true)
        }
    }

    static func checkedNames(_ names: [String], _ what: String, at node: Node, _ context: ConfigDecodingContext) -> [String] {
        names.filter { name in
            if isToken(name) { return true }
            context.report(.invalidValue(field: what, value: name, reason: "not a valid header name"), at: node)
            return false
        }
    }

    /// RFC 9110 `token` (header names, methods).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
            default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }
}
