import NIOCore
import NIOHTTP1

/// One configured HTTP filter (besides the terminal router), already parsed into its typed config.
public enum FilterConfig: Sendable, Equatable {
    case headerMutation(HeaderMutationConfig)
    case buffer(BufferFilterConfig)
    case localRateLimit(LocalRateLimitConfig)
    case coproc(CoprocFilterConfig)
    case jwtAuthn(JWTAuthnConfig)
    /// Only in a route's `per_filter_config`; a listener's filter list never holds it.
    case jwtAuthnPerRoute(JWTAuthnPerRouteConfig)
    case aesGCM(AESGCMConfig)
    /// Only in a route's `per_filter_config`; a listener's filter list never holds it.
    case aesGCMPerRoute(AESGCMPerRouteConfig)
    case flowControl(FlowControlFilterConfig)
    case fault(FaultFilterConfig)

    /// The type name as written in YAML.
    public var typeName: String {
        switch self {
        case .headerMutation: return "header_mutation"
        case .buffer: return "buffer"
        case .localRateLimit: return "local_ratelimit"
        case .coproc: return "coproc"
        case .jwtAuthn, .jwtAuthnPerRoute: return "jwt_authn"
        case .aesGCM, .aesGCMPerRoute: return "aes_gcm"
        case .flowControl: return "flow_control"
        case .fault: return "fault"
        }
    }
}

/// `name: value` to add; `append: false` replaces existing values.
public struct HeaderValueOption: Sendable, Equatable {
    public var name: String
    public var value: String
    public var append: Bool
    public init(name: String, value: String, append: Bool = true) { self.name = name; self.value = value; self.append = append }
}

/// Header edits applied in order: removals, then additions.
public struct HeaderMutations: Sendable, Equatable {
    public var add: [HeaderValueOption] = []
    public var remove: [String] = []
    public init(add: [HeaderValueOption] = [], remove: [String] = []) { self.add = add; self.remove = remove }
    public var isEmpty: Bool { add.isEmpty && remove.isEmpty }
}

/// `header_mutation`: `{ request: { add: [...], remove: [...] }, response: { ... } }`.
public struct HeaderMutationConfig: Sendable, Equatable {
    public var request: HeaderMutations
    public var response: HeaderMutations
    public init(request: HeaderMutations = .init(), response: HeaderMutations = .init()) { self.request = request; self.response = response }
}

/// `buffer`: `{ max_request_bytes: N }` — buffers the whole request body; over N → 413.
public struct BufferFilterConfig: Sendable, Equatable {
    public var maxRequestBytes: Int
    public init(maxRequestBytes: Int) { self.maxRequestBytes = maxRequestBytes }
}

/// `local_ratelimit`: a token bucket per route (`max_tokens`, `tokens_per_fill`, `fill_interval`);
/// an empty bucket → 429 with `Retry-After`. A route may override it in `per_filter_config`.
public struct LocalRateLimitConfig: Sendable, Equatable {
    public var maxTokens: Int
    public var tokensPerFill: Int
    public var fillInterval: TimeAmount
    public var statusCode: Int
    public init(maxTokens: Int, tokensPerFill: Int, fillInterval: TimeAmount, statusCode: Int = 429) {
        self.maxTokens = maxTokens; self.tokensPerFill = tokensPerFill; self.fillInterval = fillInterval; self.statusCode = statusCode
    }
}

/// `flow_control`: enforces the rules of the top-level `flow_control: { rules: FILE }` section
/// (docs/flow-control.md). Its `config` is optional; a route turns it off with
/// `per_filter_config: { flow_control: { disabled: true } }`.
public struct FlowControlFilterConfig: Sendable, Equatable {
    public var disabled: Bool
    public init(disabled: Bool = false) { self.disabled = disabled }
}
