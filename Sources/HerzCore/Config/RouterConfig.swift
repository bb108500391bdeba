import NIOCore

/// The terminal `router` filter: virtual hosts chosen by `Host`/`:authority`, then routes in order.
public struct RouterConfig: Sendable, Equatable {
    public var virtualHosts: [VirtualHostConfig]
    public init(virtualHosts: [VirtualHostConfig]) { self.virtualHosts = virtualHosts }
}

public struct VirtualHostConfig: Sendable, Equatable {
    public var name: String
    /// Exact names, `*.suffix` / `prefix.*` wildcards, or `*`. Matched case-insensitively, port ignored
    /// unless the pattern has one. Exact beats suffix wildcard beats prefix wildcard beats `*`.
    public var domains: [String]
    public var routes: [RouteEntry]
    public init(name: String, domains: [String], routes: [RouteEntry]) { self.name = name; self.domains = domains; self.routes = routes }
}

/// One route: a match and what to do with matching requests.
public struct RouteEntry: Sendable, Equatable {
    /// `virtual_host/index` unless named; used in metrics and logs.
    public var name: String
    public var match: RouteMatch
    public var action: RouteAction
    /// Upstream response deadline (whole exchange incl. retries); default 15 s, `0s` = none.
    public var timeout: TimeAmount?
    public var retryPolicy: RetryPolicy?
    public var prefixRewrite: String?
    public var hostRewrite: String?
    public var requestHeaders: HeaderMutations
    public var responseHeaders: HeaderMutations
    /// Hash inputs for `ring_hash` / `maglev` clusters, tried in order; the first present one wins.
    public var hashPolicy: [HashPolicy]
    /// Endpoint metadata the upstream must carry (Envoy's subset `metadata_match`).
    public var metadataMatch: [String: String]
    /// Per-route filter overrides, keyed by filter type (e.g. `local_ratelimit`).
    public var perFilterConfig: [String: FilterConfig]
    /// Copies of the request sent fire-and-forget to other clusters (`request_mirror_policies`).
    public var mirrorPolicies: [RequestMirrorPolicy] = []

    public init(name: String, match: RouteMatch, action: RouteAction, timeout: TimeAmount? = .seconds(15),
                retryPolicy: RetryPolicy? = nil, prefixRewrite: String? = nil, hostRewrite: String? = nil,
                requestHeaders: HeaderMutations = .init(), responseHeaders: HeaderMutations = .init(),
                hashPolicy: [HashPolicy] = [], metadataMatch: [String: String] = [:],
                perFilterConfig: [String: FilterConfig] = [:]) {
        self.name = name; self.match = match; self.action = action; self.timeout = timeout
        self.retryPolicy = retryPolicy; self.prefixRewrite = prefixRewrite; self.hostRewrite = hostRewrite
        self.requestHeaders = requestHeaders; self.responseHeaders = responseHeaders
        self.hashPolicy = hashPolicy; self.metadataMatch = metadataMatch; self.perFilterConfig = perFilterConfig
    }
}

/// All given conditions must hold.
public struct RouteMatch: Sendable, Equatable {
    public enum Path: Sendable, Equatable {
        case prefix(String)
        case exact(String)
        /// Whole-path regular expression (anchored).
        case regex(String)
    }
    public var path: Path
    public var headers: [HeaderMatcher]
    /// Allowed methods (upper case); empty = any.
    public var methods: [String]
    public var caseSensitive: Bool
    public init(path: Path, headers: [HeaderMatcher] = [], methods: [String] = [], caseSensitive: Bool = true) {
        self.path = path; self.headers = headers; self.methods = methods; self.caseSensitive = caseSensitive
    }
}

public struct HeaderMatcher: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case exact(String)
        case present
        /// Whole-value regular expression (anchored).
        case regex(String)
    }
    public var name: String
    public var kind: Kind
    /// Match when the condition does *not* hold.
    public var invert: Bool
    public init(name: String, kind: Kind, invert: Bool = false) { self.name = name; self.kind = kind; self.invert = invert }
}

public enum RouteAction: Sendable, Equatable {
    case cluster(String)
    /// The cluster named by this request header (404/503 if absent or unknown, as Envoy does).
    case clusterHeader(String)
    case weightedClusters([WeightedCluster])
}

public struct WeightedCluster: Sendable, Equatable {
    public var name: String
    public var weight: Int
    public init(name: String, weight: Int) { self.name = name; self.weight = weight }
}

public struct RetryPolicy: Sendable, Equatable {
    public enum Condition: String, Sendable, Hashable, CaseIterable {
        case fiveXX = "5xx"
        case gatewayError = "gateway-error"
        case connectFailure = "connect-failure"
        case reset
    }
    public var retryOn: Set<Condition>
    public var numRetries: Int
    public var perTryTimeout: TimeAmount?
    public init(retryOn: Set<Condition>, numRetries: Int = 1, perTryTimeout: TimeAmount? = nil) {
        self.retryOn = retryOn; self.numRetries = numRetries; self.perTryTimeout = perTryTimeout
    }
}

public enum HashPolicy: Sendable, Equatable {
    case header(String)
    case cookie(String)
    case sourceIP
}
