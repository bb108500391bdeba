/// `jwt_authn`: JWT authentication shaped like Envoy's filter of that name, carried out by a
/// coprocessor (herz-jwt) that alone reads the keys. Immutable, validated config.
///
/// ```yaml
/// - type: jwt_authn
///   config:
///     coprocessor: jwt                  # default jwt
///     max_token_bytes: 8KiB             # longer tokens are refused undecoded
///     providers:
///       example:
///         issuer: https://issuer.example.com
///         audiences: [api]
///         local_jwks: { filename: /etc/herz/jwt/example.json }
///         from_headers: [{ name: x-token, value_prefix: "" }]   # default: authorization "Bearer "
///         from_params: [access_token]
///         from_cookies: [session]
///         forward: false                # strip the token's header or cookie once verified
///         forward_payload_header: x-jwt-payload
///         claim_to_headers: [{ header_name: x-jwt-sub, claim_name: sub }]
///         clock_skew_seconds: 60
///         require_expiration: false
///     rules:
///       - match: { prefix: /api }
///         requires: { provider_name: example }
///       - match: { prefix: /public }    # no `requires`: not verified
///     requirement_map:
///       relaxed: { requires_any: [example, other], allow_missing: true }
/// ```
///
/// The kernel side stays thin (``JWTAuthnRequirementTable``): it matches the rules, strips every
/// header the providers write from incoming requests, and for a request that needs a token calls
/// the coprocessor at `request_headers` with the rule's settings as JSON; herz-jwt finds and
/// verifies the token and answers with header edits, a 401 or a 403.
public struct JWTAuthnConfig: Sendable, Equatable {
    public static let defaultCoprocessor = "jwt"
    public static let defaultMaxTokenBytes = 8 * 1024

    public var coprocessor: String
    public var providers: [JWTProvider]
    /// First match wins; a request matching no rule (or a rule without `requires`) is not verified.
    public var rules: [JWTRule]
    /// Requirements a route can pick with `per_filter_config: { jwt_authn: { requirement_name } }`.
    public var requirementMap: [String: JWTRequirement]
    public var maxTokenBytes: Int

    public init(coprocessor: String = JWTAuthnConfig.defaultCoprocessor, providers: [JWTProvider], rules: [JWTRule] = [],
                requirementMap: [String: JWTRequirement] = [:], maxTokenBytes: Int = JWTAuthnConfig.defaultMaxTokenBytes) {
        self.coprocessor = coprocessor
        self.providers = providers
        self.rules = rules
        self.requirementMap = requirementMap
        self.maxTokenBytes = maxTokenBytes
    }

    /// The request headers this filter writes (claims and payloads of every provider), lower case,
    /// without duplicates: removed from every request that reaches the filter.
    public var outputHeaders: [String] {
        var names: [String] = []
        for provider in providers {
            for name in provider.claimToHeaders.map(\.headerName) + (provider.forwardPayloadHeader.map { [$0] } ?? [])
            where !names.contains(name.lowercased()) {
                names.append(name.lowercased())
            }
        }
        return names
    }
}

/// One issuer's keys, claims and token locations (Envoy's `JwtProvider`, local JWKS only).
public struct JWTProvider: Sendable, Equatable {
    /// A header holding the token after an optional prefix (`Bearer `).
    public struct HeaderLocation: Sendable, Equatable {
        public var name: String
        public var valuePrefix: String
        public init(name: String, valuePrefix: String = "") { self.name = name; self.valuePrefix = valuePrefix }
    }

    /// `claim_to_headers` entry.
    public struct ClaimToHeader: Sendable, Equatable {
        public var headerName: String
        public var claimName: String
        public init(headerName: String, claimName: String) { self.headerName = headerName; self.claimName = claimName }
    }

    public static let defaultLocation = HeaderLocation(name: "authorization", valuePrefix: "Bearer ")
    public static let defaultClockSkewSeconds = 60

    public var name: String
    public var issuer: String?
    /// `aud` must name one of these; empty = any audience.
    public var audiences: [String]
    /// `local_jwks.filename`, read by the coprocessor only.
    public var jwksFile: String
    /// Never empty: ``defaultLocation`` when no `from_*` is configured.
    public var fromHeaders: [HeaderLocation]
    public var fromParams: [String]
    public var fromCookies: [String]
    /// Keep the token in the forwarded request (default false: its header or cookie is removed).
    public var forward: Bool
    public var forwardPayloadHeader: String?
    public var claimToHeaders: [ClaimToHeader]
    public var clockSkewSeconds: Int
    public var requireExpiration: Bool

    public init(name: String, issuer: String? = nil, audiences: [String] = [], jwksFile: String,
                fromHeaders: [HeaderLocation] = [], fromParams: [String] = [], fromCookies: [String] = [],
                forward: Bool = false, forwardPayloadHeader: String? = nil, claimToHeaders: [ClaimToHeader] = [],
                clockSkewSeconds: Int = JWTProvider.defaultClockSkewSeconds, requireExpiration: Bool = false) {
        self.name = name
        self.issuer = issuer
        self.audiences = audiences
        self.jwksFile = jwksFile
        let anyLocation = !fromHeaders.isEmpty || !fromParams.isEmpty || !fromCookies.isEmpty
        self.fromHeaders = anyLocation ? fromHeaders : [Self.defaultLocation]
        self.fromParams = fromParams
        self.fromCookies = fromCookies
        self.forward = forward
        self.forwardPayloadHeader = forwardPayloadHeader
        self.claimToHeaders = claimToHeaders
        self.clockSkewSeconds = clockSkewSeconds
        self.requireExpiration = requireExpiration
    }
}

/// Which tokens a request needs: one that verifies with any of `providers` (`provider_name` is a
/// list of one, `requires_any` of several); with `allowMissing` a request without any token passes
/// too (a token that is present must still verify).
public struct JWTRequirement: Sendable, Equatable {
    public var providers: [String]
    public var allowMissing: Bool
    public init(providers: [String], allowMissing: Bool = false) { self.providers = providers; self.allowMissing = allowMissing }
}

/// `rules` entry: requests matching `match` (the router's match syntax) need `requires`; nil
/// means they are not verified.
public struct JWTRule: Sendable, Equatable {
    public var match: RouteMatch
    public var requires: JWTRequirement?
    public init(match: RouteMatch, requires: JWTRequirement?) { self.match = match; self.requires = requires }
}

/// A route's `per_filter_config: { jwt_authn: ... }` (Envoy's `JwtAuthnPerRoute`): `disabled: true`
/// (no verification on the route) or `requirement_name: NAME` (an entry of the filter's
/// `requirement_map` replaces the rules on the route).
public enum JWTAuthnPerRouteConfig: Sendable, Equatable {
    case disabled
    case requirementName(String)
}
