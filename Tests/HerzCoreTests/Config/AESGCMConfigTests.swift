import NIOHTTP1
import XCTest
@testable import HerzCore

/// `type: aes_gcm`: decoding, the phases and settings JSON the coprocessor receives, the dump round
/// trip, per-route overrides, `fail_open` refused, ring-size checks, and every error at its `line:col`.
final class AESGCMConfigTests: XCTestCase {
    static let coprocessors = "coprocessors:\n  - { name: aesgcm, endpoint: \"unix:/run/aes.sock\" }"

    /// A config whose one listener runs `aes_gcm` with `body` as its `config:` (block style, starting
    /// on line 9) and whose one route has `routeExtra` keys.
    static func yaml(_ body: String, routeExtra: String = "", coprocessors: String = AESGCMConfigTests.coprocessors) -> String {
        let filter = "- type: aes_gcm\n  config:\n" + body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        let route = "- match: { prefix: \"/\" }\n  route: { cluster: a }" + (routeExtra.isEmpty ? "" : "\n  " + routeExtra)
        return config(top: coprocessors, filters: filter, route: route)
    }

    static let full = """
        coprocessor: aesgcm
        max_body_bytes: 256KiB
        chunk_size: 4KiB
        request:
          body: decrypt
          headers: { X-Card: decrypt, x-pan: decrypt }
          cookies: { session: decrypt }
          key_id: client-2026.11
          context: orders
        response:
          body: encrypt
          cookies: { session: encrypt }
        """

    func aes(_ config: HerzConfig?) -> AESGCMConfig? {
        guard case .aesGCM(let aes)? = config?.listeners.first?.filters.first else { return nil }
        return aes
    }

    func testEveryField() throws {
        let config = try XCTUnwrap(aes(parseOK(Self.yaml(Self.full))))
        XCTAssertEqual(config.coprocessor, "aesgcm")
        XCTAssertEqual(config.maxBodyBytes, 256 * 1024)
        XCTAssertEqual(config.operations, AESGCMOperations(
            request: AESGCMMessageOperations(body: .decrypt, headers: [.init(name: "x-card", operation: .decrypt), .init(name: "x-pan", operation: .decrypt)],
                                             cookies: [.init(name: "session", operation: .decrypt)], keyID: "client-2026.11", context: "orders"),
            response: AESGCMMessageOperations(body: .encrypt, cookies: [.init(name: "session", operation: .encrypt)]),
            chunkSize: 4096))
    }

    func testSettingsJSONIsWhatHerzAESGCMReads() throws {
        let config = try XCTUnwrap(aes(parseOK(Self.yaml(Self.full))))
        XCTAssertEqual(config.operations.settingsJSON,
                       #"{"request":{"body":"decrypt","headers":{"x-card":"decrypt","x-pan":"decrypt"},"cookies":{"session":"decrypt"},"#
                           + #""key_id":"client-2026.11","context":"orders"},"response":{"body":"encrypt","cookies":{"session":"encrypt"}},"#
                           + #""chunk_size":4096}"#)
    }

    /// docs/aes-gcm-format.md section 7.2: headers when anything is done to a message, body and
    /// trailers with a body operation, nothing for a direction without work.
    func testPhasesFollowTheOperations() throws {
        let cases: [(String, [CoprocFilterConfig.Phase])] = [
            ("request: { body: decrypt }", [.requestHeaders, .requestBody, .requestTrailers]),
            ("response: { headers: { x-a: encrypt } }", [.responseHeaders]),
            ("request: { cookies: { s: decrypt } }\nresponse: { body: encrypt }",
             [.requestHeaders, .responseHeaders, .responseBody, .responseTrailers]),
            ("chunk_size: 1KiB", []),
        ]
        for (body, phases) in cases {
            let config = try XCTUnwrap(aes(parseOK(Self.yaml(body))), body)
            XCTAssertEqual(config.operations.phases, phases, body)
            XCTAssertEqual(config.call(config.operations)?.phases, phases.isEmpty ? nil : phases, body)
        }
    }

    func testDefaultsAndAFilterWithoutConfig() throws {
        let text = config(top: Self.coprocessors, filters: "- type: aes_gcm")
        let config = try XCTUnwrap(aes(parseOK(text)))
        XCTAssertEqual(config, AESGCMConfig())
        XCTAssertEqual(config.operations.chunkSize, 16 * 1024)
        XCTAssertNil(config.call(config.operations), "a filter that does nothing never calls the coprocessor")
    }

    func testDumpParsesBackToTheSameConfig() throws {
        let original = try XCTUnwrap(parseOK(Self.yaml(Self.full, routeExtra: "per_filter_config: { aes_gcm: { response: { body: encrypt, context: c } } }")))
        let reparsed = try XCTUnwrap(parseOK(original.redactedDump()))
        XCTAssertEqual(aes(reparsed), aes(original))
        XCTAssertEqual(reparsed.listeners[0].router.virtualHosts[0].routes[0].perFilterConfig["aes_gcm"],
                       original.listeners[0].router.virtualHosts[0].routes[0].perFilterConfig["aes_gcm"])
    }

    func testRouteOverridesReplaceOrDisableTheListenersOperations() throws {
        let replaced = try XCTUnwrap(parseOK(Self.yaml(Self.full, routeExtra: "per_filter_config: { aes_gcm: { response: { body: encrypt }, chunk_size: 2KiB } }")))
        let route = replaced.listeners[0].router.virtualHosts[0].routes[0]
        let factory = AESGCMFilterFactory(config: try XCTUnwrap(aes(replaced))) { _, _ in PassThroughFilter() }
        let call = try XCTUnwrap(factory.call(on: route))
        XCTAssertEqual(call.phases, [.responseHeaders, .responseBody, .responseTrailers])
        XCTAssertEqual(call.settingsJSON, #"{"response":{"body":"encrypt"},"chunk_size":2048}"#)
        XCTAssertEqual(call.coprocessor, "aesgcm")
        XCTAssertEqual(call.maxBodyBytes, 256 * 1024, "the listener's limit")
        XCTAssertEqual(factory.call(on: nil)?.settingsJSON, factory.config.operations.settingsJSON, "no route: the listener's operations")

        let disabled = try XCTUnwrap(parseOK(Self.yaml(Self.full, routeExtra: "per_filter_config: { aes_gcm: { disabled: true } }")))
        let off = disabled.listeners[0].router.virtualHosts[0].routes[0]
        XCTAssertEqual(off.perFilterConfig["aes_gcm"], .aesGCMPerRoute(.disabled))
        XCTAssertNil(AESGCMFilterFactory(config: try XCTUnwrap(aes(disabled))) { _, _ in PassThroughFilter() }.call(on: off))
    }

    /// Without a coprocessor runtime (HerzCore alone) a stream that needs the coprocessor fails closed.
    func testWithoutACoprocessorRuntimeStreamsFailClosed() throws {
        let config = try XCTUnwrap(aes(parseOK(Self.yaml(Self.full))))
        let factories = makeFilterFactories([.aesGCM(config)])
        let info = StreamInfo(listenerName: "l", clientAddress: "127.0.0.1", scheme: "http", requestID: "r", route: nil, streamID: 1)
        XCTAssertTrue(factories[0].makeFilter(streamInfo: info) is CoprocUnavailableFilter)
        XCTAssertTrue(makeFilterFactories([.aesGCM(AESGCMConfig())])[0].makeFilter(streamInfo: info) is PassThroughFilter)
    }

    func testFailOpenIsRefusedForTheCoprocessorOfAnAESGCMFilter() {
        let failOpen = "coprocessors:\n  - { name: aesgcm, endpoint: \"unix:/run/aes.sock\", on_failure: fail_open }"
        let errors = parseErrors(Self.yaml("coprocessor: aesgcm\nresponse: { body: encrypt }", coprocessors: failOpen))
        XCTAssertEqual(errors.map(\.at), ["9:24"], "at the filter's coprocessor: \(errors)")
        XCTAssertTrue(errors.first?.message.contains("on_failure: invalid value 'fail_open': coprocessor aesgcm serves an aes_gcm filter, which cannot fail open") ?? false,
                      errors.first?.message ?? "")
        let noName = parseErrors(Self.yaml("response: { body: encrypt }", coprocessors: failOpen))
        XCTAssertEqual(noName.map(\.at), ["7:15"], "at the filter type when the default name is used: \(noName)")
        for policy in ["fail_closed", "wait"] {
            XCTAssertNotNil(parseOK(Self.yaml("response: { body: encrypt }",
                                              coprocessors: "coprocessors:\n  - { name: aesgcm, endpoint: \"unix:/a.sock\", on_failure: \(policy) }")))
        }
    }

    func testAnswersMustFitTheRings() {
        let small = "coprocessors:\n  - { name: aesgcm, endpoint: \"unix:/run/aes.sock\", ring_bytes: 64KiB }"
        // 64 KiB rings carry 16376 body bytes per call; sealing 16 KiB in 1 KiB chunks adds more.
        let errors = parseErrors(Self.yaml("max_body_bytes: 16000\nchunk_size: 1KiB\nresponse: { body: encrypt }", coprocessors: small))
        XCTAssertEqual(errors.map(\.at), ["9:27"], "\(errors)")
        XCTAssertTrue(errors.first?.message.contains("max_body_bytes (with aes_gcm's encryption overhead)") ?? false, errors.first?.message ?? "")
        XCTAssertNotNil(parseOK(Self.yaml("max_body_bytes: 16000\nrequest: { body: decrypt }", coprocessors: small)),
                        "decrypting never grows an answer past its call")
        let override = parseErrors(Self.yaml("max_body_bytes: 8000\nrequest: { body: decrypt }",
                                             routeExtra: "per_filter_config: { aes_gcm: { response: { body: encrypt }, chunk_size: 16KiB } }",
                                             coprocessors: small))
        XCTAssertEqual(override.count, 1, "a route's override is checked with its own chunk size: \(override)")
    }

    /// (config body, errors expected, position and message of the first). The body starts on line 9.
    func testErrorsAtTheirPositions() {
        let cases: [(String, Int, String, String)] = [
            ("request: { body: encrpyt }", 1, "9:28", "must be one of encrypt, decrypt"),
            ("respons: { body: encrypt }", 1, "9:11", "unknown field 'respons' (did you mean 'response'?)"),
            ("request: { bdy: decrypt }", 1, "9:22", "unknown field 'bdy'"),
            ("request: { headers: { cookie: decrypt } }", 1, "9:33", "not a header aes_gcm may change"),
            ("request: { headers: { content-length: decrypt } }", 1, "9:33", "not a header aes_gcm may change"),
            ("request: { headers: { X-A: decrypt, x-a: encrypt } }", 1, "9:47", "listed twice"),
            ("request: { headers: { x-a: hide } }", 1, "9:38", "must be one of encrypt, decrypt"),
            ("request: { cookies: { \"a;b\": decrypt } }", 1, "9:33", "not a valid cookie name"),
            ("request: { body: decrypt, key_id: \"a/b\" }", 1, "9:45", "key ids are 1 to 64 of A-Z a-z 0-9 . _ -"),
            ("request: { headers: { x-a: decrypt }, context: c }", 1, "9:58", "a context applies to a body operation"),
            ("response: { key_id: k1 }", 1, "9:31", "nothing to encrypt or decrypt in listeners[0].filters[0].config.response"),
            ("chunk_size: 512", 1, "9:23", "must be from 1KiB to 1MiB"),
            ("chunk_size: 2MiB", 1, "9:23", "must be from 1KiB to 1MiB"),
            ("coprocessor: nope", 1, "9:24", "aes_gcm filter names unknown coprocessor 'nope'; known coprocessors: aesgcm"),
        ]
        for (body, count, at, message) in cases {
            let errors = parseErrors(Self.yaml(body))
            XCTAssertEqual(errors.count, count, "\(body): \(errors)")
            XCTAssertEqual(errors.first?.at, at, "\(body): \(errors.first?.message ?? "")")
            XCTAssertTrue(errors.first?.message.contains(message) ?? false, "\(body): \(errors.first?.message ?? "")")
            XCTAssertTrue(errors.first?.description.hasPrefix("test.yaml:\(at): ") ?? false)
        }
    }

    func testRouteOverrideErrors() {
        let cases: [(String, String)] = [
            ("{ aes_gcm: { disabled: false } }", "only disabled: true is meaningful"),
            ("{ aes_gcm: { disabled: true, response: { body: encrypt } } }", "disabled: true cannot be combined with operations"),
            ("{ aes_gcm: { coprocessor: other } }", "unknown field 'coprocessor'"),
            ("{ aes_gcm: { response: { body: sign } } }", "must be one of encrypt, decrypt"),
        ]
        for (override, message) in cases {
            let errors = parseErrors(Self.yaml(Self.full, routeExtra: "per_filter_config: \(override)"))
            XCTAssertEqual(errors.count, 1, "\(override): \(errors)")
            XCTAssertTrue(errors.first?.message.contains(message) ?? false, "\(override): \(errors.first?.message ?? "")")
        }
    }

    func testAnOverrideNeedsAnAESGCMFilterOnTheListener() {
        let text = config(route: "- match: { prefix: \"/\" }\n  route: { cluster: \"a\" }\n  per_filter_config: { aes_gcm: { response: { body: encrypt } } }")
        let errors = parseErrors(text)
        XCTAssertEqual(errors.count, 1, "\(errors)")
        XCTAssertTrue(errors.first?.message.contains("the listener has no aes_gcm filter") ?? false, errors.first?.message ?? "")
    }
}
