import XCTest
@testable import HerzCore

/// `type: coproc` filters: decoding, defaults, settings as JSON, references to coprocessors (from
/// the file or from `--coproc` flags), per-route overrides, and every error at its `line:col`.
final class CoprocFilterConfigTests: XCTestCase {
    /// `filter` is the coproc filter's `config:` body (one line, flow style), on line 7 (6 without coprocessors).
    static func yaml(_ filter: String, coprocessors: String = "coprocessors:\n  - { name: jwt, endpoint: \"unix:/run/jwt.sock\" }") -> String {
        """
        \(coprocessors)
        listeners:
          - address: "127.0.0.1:8080"
            filters:
              - type: coproc
                config: \(filter)
              - type: router
                config:
                  virtual_hosts:
                    - name: vh
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: a }
        clusters:
          - { name: a, endpoints: ["127.0.0.1:9001"] }

        """
    }

    func coproc(_ config: HerzConfig?) -> CoprocFilterConfig? {
        guard case .coproc(let coproc)? = config?.listeners.first?.filters.first else { return nil }
        return coproc
    }

    func testDefaults() {
        let config = coproc(parseOK(Self.yaml("{ coprocessor: jwt }")))
        XCTAssertEqual(config, CoprocFilterConfig(coprocessor: "jwt", phases: [.requestHeaders, .responseHeaders],
                                                  maxBodyBytes: 1 << 20, settingsJSON: ""))
    }

    func testEveryFieldAndSettingsAsJSON() {
        let text = Self.yaml(#"{ coprocessor: jwt, phases: [request_body, request_headers, request_body], max_body_bytes: 64KiB, settings: { audience: "api", leeway: 5, ratio: 0.5, strict: true, none: null, keys: [a, 1], nested: { "x\"y": "1" } } }"#)
        let config = coproc(parseOK(text))
        XCTAssertEqual(config?.phases, [.requestBody, .requestHeaders])
        XCTAssertEqual(config?.maxBodyBytes, 64 * 1024)
        XCTAssertEqual(config?.settingsJSON,
                       #"{"audience":"api","leeway":5,"ratio":0.5,"strict":true,"none":null,"keys":["a",1],"nested":{"x\"y":"1"}}"#)
    }

    func testDumpParsesBackToTheSameConfig() throws {
        let original = try XCTUnwrap(parseOK(Self.yaml(#"{ coprocessor: jwt, phases: [request_headers], settings: { a: [1, "b"] } }"#)))
        let reparsed = try XCTUnwrap(parseOK(original.redactedDump()))
        XCTAssertEqual(coproc(reparsed), coproc(original))
    }

    func testErrorsAtTheirPositions() {
        let cases: [(String, String, String)] = [
            ("{ coprocessor: jwt, phase: [request_body] }", "7:37", "unknown field 'phase' (did you mean 'phases'?)"),
            ("{ coprocessor: jwt, phases: [request_headers, body] }", "7:63", "phases[1]: invalid value 'body': must be one of request_headers"),
            ("{ coprocessor: nope }", "7:32", "coproc filter names unknown coprocessor 'nope'; known coprocessors: jwt"),
            ("{ coprocessor: jwt, max_body_bytes: 1MB }", "7:53", "max_body_bytes: invalid value '1MB'"),
            ("{ coprocessor: jwt, settings: [1] }", "7:47", "settings: expected a mapping, found a list"),
            ("{ phases: [request_headers] }", "7:17", "missing required field 'coprocessor'"),
        ]
        for (filter, at, message) in cases {
            let errors = parseErrors(Self.yaml(filter))
            XCTAssertEqual(errors.count, 1, "\(filter): \(errors)")
            XCTAssertEqual(errors.first?.at, at, filter)
            XCTAssertTrue(errors.first?.message.contains(message) ?? false, "\(filter): \(errors.first?.message ?? "")")
            XCTAssertTrue(errors.first?.description.hasPrefix("test.yaml:\(at): ") ?? false)
        }
    }

    func testMaxBodyBytesMustFitTheCoprocessorsRingFrames() {
        let small = "coprocessors:\n  - { name: jwt, endpoint: \"unix:/run/jwt.sock\", ring_bytes: 128KiB }"
        XCTAssertEqual(coproc(parseOK(Self.yaml("{ coprocessor: jwt, max_body_bytes: 40KiB }", coprocessors: small)))?.maxBodyBytes, 40 << 10)
        let errors = parseErrors(Self.yaml("{ coprocessor: jwt, max_body_bytes: 64KiB }", coprocessors: small))
        XCTAssertEqual(errors.map(\.at), ["7:53"])
        XCTAssertTrue(errors.first?.message.contains("coprocessor jwt carries at most 49144 body bytes per call (ring_bytes 131072)") ?? false,
                      errors.first?.message ?? "")
        // The default (1 MiB) does not fit a 128 KiB ring either: reported at the coprocessor's name.
        XCTAssertEqual(parseErrors(Self.yaml("{ coprocessor: jwt }", coprocessors: small)).map(\.at), ["7:32"])
        XCTAssertEqual(parseOK(Self.yaml("{ coprocessor: jwt }"))?.coprocessors.first?.ringBytes, 4 << 20)
    }

    func testRingBytesMustBeAPowerOfTwoInRange() {
        for bad in ["100KiB", "32KiB", "2GiB"] {
            let text = Self.yaml("{ coprocessor: jwt, max_body_bytes: 1KiB }",
                                 coprocessors: "coprocessors:\n  - { name: jwt, endpoint: \"unix:/run/jwt.sock\", ring_bytes: \(bad) }")
            let errors = parseErrors(text)
            XCTAssertEqual(errors.first?.at, "2:62", bad)
            XCTAssertTrue(errors.first?.message.contains("expected a power of two from 64KiB to 1GiB") ?? false, "\(bad): \(errors)")
        }
    }

    func testHeartbeatClocksAreConfigurableAndChecked() {
        func coprocessors(_ keys: String) -> String { "coprocessors:\n  - { name: jwt, endpoint: \"unix:/run/jwt.sock\"\(keys) }" }
        let defaults = parseOK(Self.yaml("{ coprocessor: jwt }"))?.coprocessors.first
        XCTAssertEqual(defaults?.heartbeatInterval, .milliseconds(10))
        XCTAssertEqual(defaults?.hungAfter, .milliseconds(40))
        let slack = parseOK(Self.yaml("{ coprocessor: jwt }", coprocessors: coprocessors(", heartbeat_interval: 50ms, hung_after: 2s")))
        XCTAssertEqual(slack?.coprocessors.first?.heartbeatInterval, .milliseconds(50))
        XCTAssertEqual(slack?.coprocessors.first?.hungAfter, .seconds(2))
        let onlyInterval = parseOK(Self.yaml("{ coprocessor: jwt }", coprocessors: coprocessors(", heartbeat_interval: 100ms")))
        XCTAssertEqual(onlyInterval?.coprocessors.first?.hungAfter, .milliseconds(400), "4 intervals when hung_after is not given")
        for (keys, message) in [(", heartbeat_interval: 2s", "must be 1ms to 1s"),
                                (", heartbeat_interval: 50ms, hung_after: 60ms", "must be at least twice heartbeat_interval (50ms)")] {
            let errors = parseErrors(Self.yaml("{ coprocessor: jwt }", coprocessors: coprocessors(keys)))
            XCTAssertEqual(errors.count, 1, keys)
            XCTAssertTrue(errors.first?.message.contains(message) ?? false, "\(keys): \(errors)")
        }
    }

    func testUnknownCoprocessorWithNoneDefinedSuggestsTheFlag() {
        let errors = parseErrors(Self.yaml("{ coprocessor: jwt }", coprocessors: ""))
        XCTAssertEqual(errors.map(\.at), ["6:32"])
        XCTAssertTrue(errors.first?.message.contains("--coproc jwt=unix:PATH") ?? false)
    }

    func testExtraCoprocessorsFromFlagsSatisfyReferencesAndOverrideEndpoints() throws {
        let flag = try XCTUnwrap(CoprocessorConfig.parseFlag("jwt=unix:/tmp/jwt.sock"))
        let config = try ConfigLoader.parse(yaml: Self.yaml("{ coprocessor: jwt }", coprocessors: ""), source: "test.yaml",
                                            extraCoprocessors: [flag])
        XCTAssertEqual(config.coprocessors, [CoprocessorConfig(name: "jwt", endpoint: "unix:/tmp/jwt.sock")])

        let file = "coprocessors:\n  - { name: jwt, endpoint: \"unix:/run/jwt.sock\", on_failure: fail_open }"
        let merged = try ConfigLoader.parse(yaml: Self.yaml("{ coprocessor: jwt }", coprocessors: file), source: "test.yaml",
                                            extraCoprocessors: [flag])
        XCTAssertEqual(merged.coprocessors.count, 1)
        XCTAssertEqual(merged.coprocessors.first?.endpoint, "unix:/tmp/jwt.sock")
        XCTAssertEqual(merged.coprocessors.first?.onFailure, .failOpen)

        XCTAssertNil(CoprocessorConfig.parseFlag("jwt"))
        XCTAssertNil(CoprocessorConfig.parseFlag("=unix:/x"))
        XCTAssertNil(CoprocessorConfig.parseFlag("jwt=tcp:1"))
    }

    func testRouteOverrides() throws {
        let text = Self.yaml("{ coprocessor: jwt }").replacingOccurrences(of: "route: { cluster: a }", with: """
        route: { cluster: a }
                          per_filter_config: { coproc: { disabled: true } }
        """)
        let config = try XCTUnwrap(parseOK(text))
        let route = config.listeners[0].router.virtualHosts[0].routes[0]
        let listener = try XCTUnwrap(coproc(config))
        XCTAssertTrue(listener.effective(on: route).disabled)
        XCTAssertFalse(listener.effective(on: nil).disabled)

        let replaced = CoprocFilterConfig(coprocessor: "jwt", phases: [.requestBody])
        var other = route
        other.perFilterConfig["coproc"] = .coproc(replaced)
        XCTAssertEqual(listener.effective(on: other), replaced)
        other.perFilterConfig["coproc"] = .coproc(CoprocFilterConfig(coprocessor: "waf", disabled: true))
        XCTAssertFalse(listener.effective(on: other).disabled, "an override for another coprocessor does not apply")

        let bad = Self.yaml("{ coprocessor: jwt }").replacingOccurrences(of: "route: { cluster: a }", with: """
        route: { cluster: a }
                          per_filter_config: { coproc: { phases: [request_body] } }
        """)
        XCTAssertTrue(parseErrors(bad).first?.message.contains("missing required field 'coprocessor'") ?? false)
    }

    func testWithoutARegisteredRuntimeTheFilterFailsClosed() {
        let factories = makeFilterFactories([.coproc(CoprocFilterConfig(coprocessor: "jwt"))])
        XCTAssertTrue(factories.first is CoprocUnavailableFilterFactory)
        var registry = FilterFactoryRegistry()
        registry.register(type: "coproc") { _ in HeaderMutationFilterFactory(config: HeaderMutationConfig()) }
        XCTAssertTrue(makeFilterFactories([.coproc(CoprocFilterConfig(coprocessor: "jwt"))], registry: registry).first is HeaderMutationFilterFactory)
    }
}
