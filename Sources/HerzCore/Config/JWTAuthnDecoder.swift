import Yams

/// Decodes the `config:` of a `jwt_authn` filter and a route's `per_filter_config.jwt_authn`.
/// Every problem is reported with `file:line:col`; names are checked where they can be: provider
/// names used by requirements here, the coprocessor name by ``ConfigLoader``, a route's
/// `requirement_name` by ``ListenerDecoder``.
enum JWTAuthnDecoder {
    static let keys = ["coprocessor", "max_token_bytes", "providers", "rules", "requirement_map"]
    static let providerKeys = ["issuer", "audiences", "local_jwks", "from_headers", "from_params", "from_cookies", "forward",
                               "forward_payload_header", "claim_to_headers", "clock_skew_seconds", "require_expiration"]
    static let requirementKeys = ["provider_name", "requires_any", "allow_missing"]
    static let perRouteKeys = ["disabled", "requirement_name"]
    static let maxTokenBytesLimit = 1 << 20
    /// Headers a provider may not write: every request has them stripped (``JWTAuthnConfig/outputHeaders``),
    /// and these carry framing, routing or credentials.
    static let reservedOutputHeaders = ["host", "cookie", "authorization", "content-length", "content-type", "transfer-encoding",
                                        "connection", "upgrade", "te", "trailer", "keep-alive", "proxy-connection", "expect"]

    static func decode(_ node: Node?, _ what: String, at typeNode: Node, _ context: ConfigDecodingContext) -> JWTAuthnConfig? {
        guard let node else { context.report(.missingField(field: "config", in: what), at: typeNode); return nil }
        guard let map = context.map(node, what, known: keys, required: ["providers"]) else { return nil }
        let errorsBefore = context.errors.count
        var config = JWTAuthnConfig(providers: [])
        if map.has("coprocessor") { config.coprocessor = map.string("coprocessor") ?? "" }
        if !config.coprocessor.isEmpty {
            context.coprocessorReferences.append(CoprocessorReference(name: config.coprocessor, node: map["coprocessor"] ?? typeNode,
                                                                      filterType: "jwt_authn"))
        }
        if let bytes = map.byteSize("max_token_bytes") {
            if bytes <= maxTokenBytesLimit { config.maxTokenBytes = bytes } else {
                context.report(.invalidValue(field: map.field("max_token_bytes"), value: String(bytes), reason: "must be at most 1MiB"),
                               at: map["max_token_bytes"])
            }
        }
        if let providersNode = map["providers"], let entries = context.namedEntries(providersNode, map.field("providers")) {
            if entries.isEmpty {
                context.report(.invalidValue(field: map.field("providers"), value: "{}", reason: "at least one provider is needed"), at: providersNode)
            }
            config.providers = entries.compactMap { decodeProvider($0, "\(map.field("providers")).\($0.key)", context) }
            checkOutputHeaders(config.providers, entries, context)
        }
        let names = config.providers.map(\.name)
        for (index, item) in (map.list("rules") ?? []).enumerated() {
            let field = "\(map.field("rules"))[\(index)]"
            guard let rule = context.map(item, field, known: ["match", "requires"], required: ["match"]) else { continue }
            let match = rule.map("match", known: RouterDecoder.matchKeys).flatMap { RouterDecoder.decodeMatch($0, context) }
            let requires = rule["requires"].flatMap { decodeRequirement($0, rule.field("requires"), providers: names, context) }
            if let match { config.rules.append(JWTRule(match: match, requires: requires)) }
        }
        if let mapNode = map["requirement_map"], let entries = context.namedEntries(mapNode, map.field("requirement_map")) {
            for entry in entries {
                if let requirement = decodeRequirement(entry.value, "\(map.field("requirement_map")).\(entry.key)", providers: names, context) {
                    config.requirementMap[entry.key] = requirement
                }
            }
        }
        return context.errors.count == errorsBefore ? config : nil
    }

    static func decodeProvider(_ entry: YAMLMap.Entry, _ what: String, _ context: ConfigDecodingContext) -> JWTProvider? {
        guard let map = context.map(entry.value, what, known: providerKeys, required: ["local_jwks"]) else { return nil }
        let errorsBefore = context.errors.count
        let file = map.map("local_jwks", known: ["filename"], required: ["filename"])?.string("filename")
        var fromHeaders: [JWTProvider.HeaderLocation] = []
        for (index, item) in (map.list("from_headers") ?? []).enumerated() {
            let field = "\(map.field("from_headers"))[\(index)]"
            guard let location = context.map(item, field, known: ["name", "value_prefix"], required: ["name"]),
                  let name = headerName(location, "name", context) else { continue }
            let prefix = location["value_prefix"].flatMap { context.string($0, location.field("value_prefix")) } ?? ""
            if prefix.contains(where: { $0 == "\r" || $0 == "\n" }) {
                context.report(.invalidValue(field: location.field("value_prefix"), value: prefix, reason: "cannot contain CR or LF"),
                               at: location["value_prefix"])
            }
            fromHeaders.append(JWTProvider.HeaderLocation(name: name, valuePrefix: prefix))
        }
        let cookies = map.stringList("from_cookies") ?? []
        for cookie in cookies where !FilterDecoder.isToken(cookie) {
            context.report(.invalidValue(field: map.field("from_cookies"), value: cookie, reason: "not a valid cookie name"), at: map["from_cookies"])
        }
        var claimHeaders: [JWTProvider.ClaimToHeader] = []
        for (index, item) in (map.list("claim_to_headers") ?? []).enumerated() {
            let field = "\(map.field("claim_to_headers"))[\(index)]"
            guard let claim = context.map(item, field, known: ["header_name", "claim_name"], required: ["header_name", "claim_name"]),
                  let header = headerName(claim, "header_name", context), let claimName = claim.string("claim_name") else { continue }
            claimHeaders.append(JWTProvider.ClaimToHeader(headerName: header, claimName: claimName))
        }
        let payloadHeader = map.has("forward_payload_header") ? headerName(map, "forward_payload_header", context) : nil
        let provider = JWTProvider(
            name: entry.key, issuer: map.string("issuer"), audiences: map.stringList("audiences") ?? [], jwksFile: file ?? "",
            fromHeaders: fromHeaders, fromParams: map.stringList("from_params") ?? [], fromCookies: cookies,
            forward: map.bool("forward") ?? false, forwardPayloadHeader: payloadHeader, claimToHeaders: claimHeaders,
            clockSkewSeconds: map.has("clock_skew_seconds") ? map.int("clock_skew_seconds", range: 0...86_400) ?? 0 : JWTProvider.defaultClockSkewSeconds,
            requireExpiration: map.bool("require_expiration") ?? false)
        return context.errors.count == errorsBefore ? provider : nil
    }

    /// A valid header name (lower-cased) at `key` of `map`, or nil after reporting.
    static func headerName(_ map: YAMLMap, _ key: String, _ context: ConfigDecodingContext) -> String? {
        guard let name = map.string(key) else { return nil }
        guard FilterDecoder.isToken(name) else {
            context.report(.invalidValue(field: map.field(key), value: name, reason: "not a valid header name"), at: map[key])
            return nil
        }
        return name.lowercased()
    }

    /// Output headers (claims, payload) must not be reserved and must not be a header any provider
    /// reads a token from: they are stripped from every request.
    static func checkOutputHeaders(_ providers: [JWTProvider], _ entries: [YAMLMap.Entry], _ context: ConfigDecodingContext) {
        let tokenHeaders = Set(providers.flatMap { $0.fromHeaders.map(\.name) })
        for provider in providers {
            let node = entries.first { $0.key == provider.name }?.value
            for name in provider.claimToHeaders.map(\.headerName) + (provider.forwardPayloadHeader.map { [$0] } ?? []) {
                if reservedOutputHeaders.contains(name) || name.hasPrefix(":") {
                    context.report(.invalidValue(field: "providers.\(provider.name)", value: name,
                                                 reason: "jwt_authn cannot write this header (it is stripped from every request)"), at: node)
                } else if tokenHeaders.contains(name) {
                    context.report(.invalidValue(field: "providers.\(provider.name)", value: name,
                                                 reason: "a provider reads tokens from this header; it cannot also be an output header"), at: node)
                }
            }
        }
    }

    /// `{ provider_name: a }` or `{ requires_any: [a, b] }`, optionally `allow_missing: true`.
    static func decodeRequirement(_ node: Node, _ what: String, providers: [String], _ context: ConfigDecodingContext) -> JWTRequirement? {
        guard let map = context.map(node, what, known: requirementKeys) else { return nil }
        let errorsBefore = context.errors.count
        var names: [String] = []
        switch map.exactlyOne(of: ["provider_name", "requires_any"]) {
        case "provider_name"?: names = map.string("provider_name").map { [$0] } ?? []
        case "requires_any"?:
            names = map.stringList("requires_any") ?? []
            if names.isEmpty, context.errors.count == errorsBefore {
                context.report(.invalidValue(field: map.field("requires_any"), value: "[]", reason: "at least one provider is needed"), at: map["requires_any"])
            }
        default: break
        }
        for name in names where !providers.contains(name) {
            context.report(.invalidValue(field: what, value: name, reason: "no provider of that name; providers: \(providers.joined(separator: ", "))"),
                           at: map["provider_name"] ?? map["requires_any"])
        }
        let requirement = JWTRequirement(providers: names, allowMissing: map.bool("allow_missing") ?? false)
        return context.errors.count == errorsBefore && !names.isEmpty ? requirement : nil
    }

    /// A route's `per_filter_config.jwt_authn`: `{ disabled: true }` or `{ requirement_name: NAME }`.
    static func decodePerRoute(_ node: Node?, _ what: String, at typeNode: Node, _ context: ConfigDecodingContext) -> JWTAuthnPerRouteConfig? {
        guard let node else { context.report(.missingField(field: "config", in: what), at: typeNode); return nil }
        guard let map = context.map(node, what, known: perRouteKeys) else { return nil }
        switch map.exactlyOne(of: perRouteKeys) {
        case "disabled"?:
            guard let disabled = map.bool("disabled") else { return nil }
            guard disabled else {
                context.report(.invalidValue(field: map.field("disabled"), value: "false", reason: "only disabled: true is meaningful"), at: map["disabled"])
                return nil
            }
            return .disabled
        case "requirement_name"?:
            guard let name = map.string("requirement_name") else { return nil }
            context.jwtRequirementReferences.append(JWTRequirementReference(name: name, node: map["requirement_name"]!))
            return .requirementName(name)
        default:
            return nil
        }
    }

    /// Reports every reference in `references` that some `jwt_authn` filter of `filters` does not
    /// define in its `requirement_map` (all of them when the listener has none).
    static func checkRequirementReferences(_ references: ArraySlice<JWTRequirementReference>, filters: [FilterConfig],
                                           _ context: ConfigDecodingContext) {
        let maps = filters.compactMap { filter -> [String: JWTRequirement]? in
            if case .jwtAuthn(let config) = filter { return config.requirementMap }
            return nil
        }
        for reference in references where maps.isEmpty || maps.contains(where: { $0[reference.name] == nil }) {
            let known = Set(maps.flatMap(\.keys)).sorted()
            let reason = maps.isEmpty ? "the listener has no jwt_authn filter"
                : "not in the jwt_authn requirement_map (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
            context.report(.invalidValue(field: "requirement_name", value: reference.name, reason: reason), at: reference.node)
        }
    }
}

/// A `requirement_name` written in a route's `per_filter_config.jwt_authn`, with where.
struct JWTRequirementReference {
    var name: String
    var node: Node
}
