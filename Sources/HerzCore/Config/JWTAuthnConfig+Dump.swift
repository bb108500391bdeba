extension JWTAuthnConfig {
    /// The config with the keys it was written with (`/config_dump`; parses back to an equal config).
    var dumpValue: ConfigDump {
        .map([
            ("coprocessor", .string(coprocessor)),
            ("max_token_bytes", .int(maxTokenBytes)),
            ("providers", .map(providers.map { ($0.name, .map($0.dumpFields)) })),
            ("rules", .list(rules.map { rule in
                .map([("match", rule.match.dumpValue)] + (rule.requires.map { [("requires", $0.dumpValue)] } ?? []))
            })),
            ("requirement_map", .map(requirementMap.sorted { $0.key < $1.key }.map { ($0.key, $0.value.dumpValue) })),
        ])
    }

    /// The filter settings JSON of a call made under `requirement` (`CoprocCall.filterConfig`):
    /// `{"version":1,"max_token_bytes":N,"allow_missing":B,"providers":[{"name":…, <provider as in
    /// the config>}]}` with only the requirement's providers, in its order. herz-jwt's
    /// `AuthnSettings` reads exactly this.
    public func settingsJSON(for requirement: JWTRequirement) -> String {
        let listed = requirement.providers.compactMap { name in providers.first { $0.name == name } }
        return ConfigDump.compactJSON(.map([
            ("version", .int(1)),
            ("max_token_bytes", .int(maxTokenBytes)),
            ("allow_missing", .bool(requirement.allowMissing)),
            ("providers", .list(listed.map { .map([("name", .string($0.name))] + $0.dumpFields) })),
        ]))
    }
}

extension JWTProvider {
    var dumpFields: [(String, ConfigDump)] {
        var fields: [(String, ConfigDump)] = []
        if let issuer { fields.append(("issuer", .string(issuer))) }
        fields += [
            ("audiences", .strings(audiences)),
            ("local_jwks", .map([("filename", .string(jwksFile))])),
            ("from_headers", .list(fromHeaders.map { .map([("name", .string($0.name)), ("value_prefix", .string($0.valuePrefix))]) })),
            ("from_params", .strings(fromParams)),
            ("from_cookies", .strings(fromCookies)),
            ("forward", .bool(forward)),
        ]
        if let forwardPayloadHeader { fields.append(("forward_payload_header", .string(forwardPayloadHeader))) }
        fields += [
            ("claim_to_headers", .list(claimToHeaders.map {
                .map([("header_name", .string($0.headerName)), ("claim_name", .string($0.claimName))])
            })),
            ("clock_skew_seconds", .int(clockSkewSeconds)),
            ("require_expiration", .bool(requireExpiration)),
        ]
        return fields
    }
}

extension JWTRequirement {
    var dumpValue: ConfigDump {
        let names: (String, ConfigDump) = providers.count == 1 ? ("provider_name", .string(providers[0])) : ("requires_any", .strings(providers))
        return .map([names] + (allowMissing ? [("allow_missing", .bool(true))] : []))
    }
}
