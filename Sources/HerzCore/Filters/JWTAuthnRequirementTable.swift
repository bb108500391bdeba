import NIOHTTP1

/// The compiled `jwt_authn` config of one listener and config generation: which coprocessor call,
/// if any, a request needs.
///
/// Built once per config snapshot off the event loops (settings JSON rendered per rule and per
/// `requirement_map` entry, matches compiled); immutable and `Sendable`, read by every worker.
/// ``call(for:route:)`` allocates nothing for prefix/path rules.
///
/// Decision order: a route's `per_filter_config.jwt_authn` first (`disabled` → no call,
/// `requirement_name` → that requirement), then the first rule whose match holds (no `requires` →
/// no call); a request matching no rule is not verified.
public struct JWTAuthnRequirementTable: Sendable {
    struct Rule: Sendable {
        /// nil only if the rule's regex failed to compile (the loader rejects that first); such a
        /// rule then matches every request, so a broken rule can only ask for more verification.
        let match: CompiledRouteMatch?
        let call: CoprocFilterConfig?
    }

    let rules: [Rule]
    let named: [String: CoprocFilterConfig]
    /// Lower-case headers the providers write (``JWTAuthnConfig/outputHeaders``).
    public let outputHeaders: [String]
    /// `jwt.CLAIM` → the header its verified value is written to (``StreamInfo/headerMetadata``).
    public let claimMetadata: [String: String]

    public init(config: JWTAuthnConfig) {
        func call(_ requirement: JWTRequirement) -> CoprocFilterConfig {
            CoprocFilterConfig(coprocessor: config.coprocessor, phases: [.requestHeaders],
                               settingsJSON: config.settingsJSON(for: requirement))
        }
        rules = config.rules.map { Rule(match: try? CompiledRouteMatch($0.match), call: $0.requires.map(call)) }
        named = config.requirementMap.mapValues(call)
        outputHeaders = config.outputHeaders
        var claims: [String: String] = [:]
        for provider in config.providers {
            for claim in provider.claimToHeaders where claims["jwt.\(claim.claimName)"] == nil {
                claims["jwt.\(claim.claimName)"] = claim.headerName.lowercased()
            }
        }
        claimMetadata = claims
    }

    /// The call to make for a request on `route`, or nil when it needs no token.
    public func call(for head: HTTPRequestHead, route: RouteEntry?) -> CoprocFilterConfig? {
        switch route?.perFilterConfig["jwt_authn"] {
        case .jwtAuthnPerRoute(.disabled)?:
            return nil
        case .jwtAuthnPerRoute(.requirementName(let name))?:
            // The loader guarantees every jwt_authn filter of the route's listener defines `name`.
            if let named = named[name] { return named }
        default:
            break
        }
        let path = requestPath(of: head.uri)
        for rule in rules where rule.match?.matches(path: path, head: head) ?? true {
            return rule.call
        }
        return nil
    }
}
