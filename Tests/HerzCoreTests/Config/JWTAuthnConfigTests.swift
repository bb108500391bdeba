import XCTest
@testable import HerzCore

/// `type: jwt_authn`: decoding with Envoy's names, defaults, the settings JSON the coprocessor
/// receives, the dump round trip, per-route overrides, and every error at its `line:col`.
final class JWTAuthnConfigTests: XCTestCase {
    /// A config whose one listener runs `jwt_authn` with `body` as its `config:` (block style,
    /// starting on line 9) and whose one route (line 42 with `full`) has `routeExtra` keys.
    static func yaml(_ body: String, routeExtra: String = "", coprocessors: String = "coprocessors:\n  - { name: jwt, endpoint: \"unix:/run/jwt.sock\" }") -> String {
        let filter = "- type: jwt_authn\n  config:\n" + body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        let route = "- match: { prefix: \"/\" }\n  route: { cluster: a }" + (routeExtra.isEmpty ? "" : "\n  " + routeExtra)
        return config(top: coprocessors, filters: filter, route: route)
    }

    static let full = """
        coprocessor: jwt
        max_token_bytes: 4KiB
        providers:
          main:
            issuer: https://issuer.example.com
            audiences: [api, web]
            local_jwks: { filename: /etc/herz/jwt/main.json }
            forward_payload_header: X-JWT-Payload
            claim_to_headers: [{ header_name: x-jwt-sub, claim_name: sub }]
            clock_skew_seconds: 30
            require_expiration: true
          other:
            local_jwks: { filename: other.json }
            from_headers: [{ name: x-token, value_prefix: "Token " }]
            from_params: [access_token]
            from_cookies: [session]
            forward: true
        rules:
          - match: { prefix: /public }
          - match: { path: /mixed, methods: [GET] }
            requires: { requires_any: [main, other], allow_missing: true }
          - match: { prefix: / }
            requires: { provider_name: main }
        requirement_map:
          other_only: { provider_name: other }
        """

    func jwt(_ config: HerzConfig?) -> JWTAuthnConfig? {
        guard case .jwtAuthn(let jwt)? = config?.listeners.first?.filters.first else { return nil }
        return jwt
    }

    func testEveryField() throws {
        let config = try XCTUnwrap(jwt(parseOK(Self.yaml(Self.full))))
        XCTAssertEqual(config.coprocessor, "jwt")
        XCTAssertEqual(config.maxTokenBytes, 4096)
        XCTAssertEqual(config.providers, [
            JWTProvider(name: "main", issuer: "https://issuer.example.com", audiences: ["api", "web"], jwksFile: "/etc/herz/jwt/main.json",
                        forwardPayloadHeader: "x-jwt-payload", claimToHeaders: [.init(headerName: "x-jwt-sub", claimName: "sub")],
                        clockSkewSeconds: 30, requireExpiration: true),
            JWTProvider(name: "other", jwksFile: "other.json", fromHeaders: [.init(name: "x-token", valuePrefix: "Token ")],
                        fromParams: ["access_token"], fromCookies: ["session"], forward: true),
        ])
        XCTAssertEqual(config.providers[0].fromHeaders, [JWTProvider.defaultLocation], "Authorization: Bearer by default")
        XCTAssertEqual(config.rules.map(\.requires), [nil, JWTRequirement(providers: ["main", "other"], allowMissing: true),
                                                      JWTRequirement(providers: ["main"])])
        XCTAssertEqual(config.rules[1].match, RouteMatch(path: .exact("/mixed"), methods: ["GET"]))
        XCTAssertEqual(config.requirementMap, ["other_only": JWTRequirement(providers: ["other"])])
        XCTAssertEqual(config.outputHeaders, ["x-jwt-sub", "x-jwt-payload"])
    }

    func testDefaults() throws {
        let config = try XCTUnwrap(jwt(parseOK(Self.yaml("providers:\n  p: { local_jwks: { filename: p.json } }"))))
        XCTAssertEqual(config, JWTAuthnConfig(providers: [JWTProvider(name: "p", jwksFile: "p.json")]))
        XCTAssertEqual(config.coprocessor, "jwt")
        XCTAssertEqual(config.providers[0].clockSkewSeconds, 60)
        XCTAssertEqual(config.providers[0].forward, false)
    }

    func testSettingsJSONCarriesTheRequirementsProvidersInOrder() throws {
        let config = try XCTUnwrap(jwt(parseOK(Self.yaml(Self.full))))
        let json = config.settingsJSON(for: JWTRequirement(providers: ["other"], allowMissing: true))
        XCTAssertEqual(json, #"{"version":1,"max_token_bytes":4096,"allow_missing":true,"providers":[{"name":"other","audiences":[],"#
            + #""local_jwks":{"filename":"other.json"},"from_headers":[{"name":"x-token","value_prefix":"Token "}],"#
            + #""from_params":["access_token"],"from_cookies":["session"],"forward":true,"claim_to_headers":[],"#
            + #""clock_skew_seconds":60,"require_expiration":false}]}"#)
    }

    func testDumpParsesBackToTheSameConfig() throws {
        let original = try XCTUnwrap(parseOK(Self.yaml(Self.full, routeExtra: "per_filter_config: { jwt_authn: { requirement_name: other_only } }")))
        let reparsed = try XCTUnwrap(parseOK(original.redactedDump()))
        XCTAssertEqual(jwt(reparsed), jwt(original))
        XCTAssertEqual(reparsed.listeners[0].router.virtualHosts[0].routes[0].perFilterConfig["jwt_authn"], .jwtAuthnPerRoute(.requirementName("other_only")))
    }

    func testPerRouteOverrides() throws {
        let disabled = try XCTUnwrap(parseOK(Self.yaml(Self.full, routeExtra: "per_filter_config: { jwt_authn: { disabled: true } }")))
        XCTAssertEqual(disabled.listeners[0].router.virtualHosts[0].routes[0].perFilterConfig["jwt_authn"], .jwtAuthnPerRoute(.disabled))
    }

    /// (config body, errors expected, position and message of the first). The body starts on line 8.
    func testErrorsAtTheirPositions() {
        let provider = "providers:\n  p: { local_jwks: { filename: p.json } }"
        let cases: [(String, Int, String, String)] = [
            ("providers: {}", 1, "9:22", "at least one provider is needed"),
            ("providers:\n  p: { issuer: x }", 1, "10:16", "missing required field 'local_jwks'"),
            ("providers:\n  p: { local_jwks: { file: p.json } }", 2, "10:32", "unknown field 'file'; known fields: filename"),
            ("providers:\n  p: { local_jwks: { filename: p.json }, audience: [a] }", 1, "10:52", "unknown field 'audience' (did you mean 'audiences'?)"),
            ("providers:\n  p: { local_jwks: { filename: p.json }, claim_to_headers: [{ header_name: \"bad header\", claim_name: sub }] }",
             1, "10:86", "not a valid header name"),
            ("providers:\n  p: { local_jwks: { filename: p.json }, forward_payload_header: cookie }", 1, "10:16", "jwt_authn cannot write this header"),
            ("providers:\n  p: { local_jwks: { filename: p.json }, from_headers: [{ name: x-t }], claim_to_headers: [{ header_name: x-t, claim_name: sub }] }",
             1, "10:16", "a provider reads tokens from this header"),
            ("providers:\n  p: { local_jwks: { filename: p.json }, clock_skew_seconds: -1 }", 1, "10:72", "must be in 0...86400"),
            (provider + "\nrules:\n  - match: { prefix: /a }\n    requires: { provider_name: q }", 1, "13:42", "no provider of that name; providers: p"),
            (provider + "\nrules:\n  - match: { prefix: /a }\n    requires: { provider_name: p, requires_any: [p] }", 1, "13:45",
             "exactly one of 'provider_name', 'requires_any' must be given"),
            (provider + "\nrules:\n  - match: { prefx: /a }", 2, "12:24", "unknown field 'prefx' (did you mean 'prefix'?)"),
            (provider + "\nrules:\n  - requires: { provider_name: p }", 1, "12:15", "missing required field 'match'"),
            (provider + "\nmax_token_bytes: 2MiB", 1, "11:28", "must be at most 1MiB"),
            (provider + "\ncoprocessor: nope", 1, "11:24", "jwt_authn filter names unknown coprocessor 'nope'; known coprocessors: jwt"),
            (provider + "\nrequirement_map:\n  r: { requires_any: [] }", 1, "12:32", "at least one provider is needed"),
        ]
        for (body, count, at, message) in cases {
            let errors = parseErrors(Self.yaml(body))
            XCTAssertEqual(errors.count, count, "\(body): \(errors)")
            XCTAssertEqual(errors.first?.at, at, "\(body): \(errors.first?.message ?? "")")
            XCTAssertTrue(errors.first?.message.contains(message) ?? false, "\(body): \(errors.first?.message ?? "")")
            XCTAssertTrue(errors.first?.description.hasPrefix("test.yaml:\(at): ") ?? false)
        }
    }

    func testTheDefaultCoprocessorMustBeDefined() {
        let errors = parseErrors(Self.yaml("providers:\n  p: { local_jwks: { filename: p.json } }", coprocessors: ""))
        XCTAssertEqual(errors.map(\.at), ["5:15"], "at the filter type, as no coprocessor: was written")
        XCTAssertTrue(errors.first?.message.contains("jwt_authn filter names unknown coprocessor 'jwt'") ?? false, errors.first?.message ?? "")
    }

    /// The route (and so its override) is on line 42.
    func testRouteOverrideErrors() {
        let cases: [(String, Int, String, String)] = [
            ("{ jwt_authn: { requirement_name: nope } }", 1, "42:71", "requirement_name: invalid value 'nope': not in the jwt_authn requirement_map (known: other_only)"),
            ("{ jwt_authn: { disabled: false } }", 1, "42:63", "only disabled: true is meaningful"),
            ("{ jwt_authn: { disabled: true, requirement_name: other_only } }", 1, "42:69", "exactly one of 'disabled', 'requirement_name'"),
            ("{ jwt_authn: { providers: {} } }", 2, "42:53", "unknown field 'providers'"),
        ]
        for (override, count, at, message) in cases {
            let errors = parseErrors(Self.yaml(Self.full, routeExtra: "per_filter_config: \(override)"))
            XCTAssertEqual(errors.count, count, "\(override): \(errors)")
            XCTAssertEqual(errors.first?.at, at, "\(override): \(errors.first?.message ?? "")")
            XCTAssertTrue(errors.first?.message.contains(message) ?? false, "\(override): \(errors.first?.message ?? "")")
        }
    }

    func testARequirementNameNeedsAJWTAuthnFilterOnTheListener() {
        let text = config(route: "- match: { prefix: \"/\" }\n  route: { cluster: \"a\" }\n  per_filter_config: { jwt_authn: { requirement_name: x } }")
        let errors = parseErrors(text)
        XCTAssertEqual(errors.count, 1, "\(errors)")
        XCTAssertTrue(errors.first?.message.contains("the listener has no jwt_authn filter") ?? false, errors.first?.message ?? "")
        XCTAssertNotNil(parseOK(config(route: "- match: { prefix: \"/\" }\n  route: { cluster: \"a\" }\n  per_filter_config: { jwt_authn: { disabled: true } }")))
    }
}
