import Foundation
import HerzCoprocSDK
import HerzCore
import Logging
import NIOCore
import XCTest
@testable import HerzJWT

/// A request through herz-jwt's filter as the kernel calls it: settings rendered by HerzCore's
/// `JWTAuthnConfig.settingsJSON(for:)` (the real contract between the two), JWKS files on disk,
/// tokens in every location; answers checked field by field.
final class AuthenticatorTests: XCTestCase {
    var directory: URL!
    var filter: JWTCoprocessorFilter!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herz-authn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, signer) in [("main", TestSigner.es256), ("other", TestSigner.edDSA)] {
            try Data(#"{"keys":[\#(signer.jwk(#""kid":"\#(name)""#))]}"#.utf8).write(to: directory.appendingPathComponent("\(name).json"))
        }
        filter = JWTCoprocessorFilter(store: JWKSStore(root: directory.path, logger: Logger(label: "test")), logger: Logger(label: "test"),
                                      clock: { TestTokens.now })
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    static let config = JWTAuthnConfig(providers: [
        JWTProvider(name: "main", issuer: "https://issuer", audiences: ["api"], jwksFile: "main.json",
                    forwardPayloadHeader: "x-jwt-payload",
                    claimToHeaders: [.init(headerName: "x-jwt-sub", claimName: "sub"), .init(headerName: "x-jwt-roles", claimName: "realm.roles"),
                                     .init(headerName: "x-jwt-evil", claimName: "evil")]),
        JWTProvider(name: "other", jwksFile: "other.json", fromHeaders: [.init(name: "x-token")], fromParams: ["access_token"],
                    fromCookies: ["session"], forward: false, claimToHeaders: [.init(headerName: "x-other-sub", claimName: "sub")]),
        JWTProvider(name: "kept", jwksFile: "main.json", fromCookies: ["jwt"], forward: true),
    ])

    func settings(_ providers: [String], allowMissing: Bool = false) -> String {
        Self.config.settingsJSON(for: JWTRequirement(providers: providers, allowMissing: allowMissing))
    }

    func call(_ headers: [(String, String)], settings: String, path: String = "/api/x?y=1") -> AnswerResult {
        let wire = [WireHeader(":method", "GET"), WireHeader(":path", path), WireHeader(":authority", "api.example.com"),
                    WireHeader(":scheme", "https")] + headers.map { WireHeader($0.0, $0.1) }
        return filter.answer(CoprocCall(callId: 1, streamId: 1, deadlineNanos: 0, phase: .requestHeaders, endStream: true,
                                        headers: wire, route: "all/0", filterConfig: settings))
    }

    func mainToken(_ extra: String = #""realm":{"roles":["a","b"]},"evil":"x\r\ninjected: 1""#) -> String {
        TestSigner.es256.token(TestTokens.claims(extra), headerExtra: #""kid":"main""#)
    }

    func localReply(_ answer: AnswerResult) -> (status: UInt16, challenge: String?, body: String, reason: String)? {
        guard case .localReply(let reply) = answer else { return nil }
        return (reply.status, reply.headers.first { $0.name == "www-authenticate" }?.value, String(buffer: reply.body), reply.reason)
    }

    func testAValidBearerTokenSetsClaimHeadersAndThePayloadAndStripsTheToken() throws {
        let token = mainToken()
        guard case .headers(.continue, let mutation) = call([("Authorization", "Bearer \(token)")], settings: settings(["main"])) else {
            return XCTFail("expected continue")
        }
        XCTAssertEqual(mutation.set, [WireHeader("x-jwt-sub", "alice"), WireHeader("x-jwt-roles", "a,b"),
                                      WireHeader("x-jwt-payload", String(token.split(separator: ".")[1]))])
        XCTAssertEqual(mutation.remove, ["x-jwt-evil", "authorization"], "an unsafe claim is never written; the token is stripped")
    }

    func testTheBearerPrefixIsCaseInsensitiveAndOtherSchemesAreNotTokens() {
        guard case .headers(.continue, _) = call([("authorization", "bearer   \(mainToken())")], settings: settings(["main"])) else {
            return XCTFail("lower-case bearer")
        }
        XCTAssertEqual(localReply(call([("authorization", "Basic dXNlcjpwdw==")], settings: settings(["main"])))?.status, 401)
    }

    func testMissingTokenIs401WithTheRealmOnly() throws {
        let reply = try XCTUnwrap(localReply(call([], settings: settings(["main"]))))
        XCTAssertEqual(reply.status, 401)
        XCTAssertEqual(reply.challenge, #"Bearer realm="https://api.example.com/api/x""#)
        XCTAssertEqual(reply.body, "Jwt is missing")
        XCTAssertEqual(reply.reason, "jwt_missing")
    }

    func testAnInvalidTokenIs401InvalidToken() throws {
        let reply = try XCTUnwrap(localReply(call([("authorization", "Bearer x.y.z")], settings: settings(["main"]))))
        XCTAssertEqual(reply.status, 401)
        XCTAssertEqual(reply.challenge, #"Bearer realm="https://api.example.com/api/x", error="invalid_token""#)
        XCTAssertEqual(reply.reason, "jwt_malformed")
    }

    func testAWrongAudienceIs403InsufficientScope() throws {
        let token = TestSigner.es256.token(#"{"iss":"https://issuer","aud":"other"}"#, headerExtra: #""kid":"main""#)
        let reply = try XCTUnwrap(localReply(call([("authorization", "Bearer \(token)")], settings: settings(["main"]))))
        XCTAssertEqual(reply.status, 403)
        XCTAssertEqual(reply.challenge, #"Bearer realm="https://api.example.com/api/x", error="insufficient_scope""#)
        XCTAssertEqual(reply.body, "Audiences in Jwt are not allowed")
    }

    func testTokensFromAHeaderAQueryParameterAndACookie() {
        let token = TestSigner.edDSA.token(#"{"sub":"bob"}"#, headerExtra: #""kid":"other""#)
        let fromHeader = call([("x-token", token)], settings: settings(["other"]))
        XCTAssertEqual(fromHeader, .headers(.continue, HeaderMutation(set: [WireHeader("x-other-sub", "bob")], remove: ["x-token"])))

        let fromQuery = call([], settings: settings(["other"]), path: "/p?a=1&access_token=\(token)&b")
        XCTAssertEqual(fromQuery, .headers(.continue, HeaderMutation(set: [WireHeader("x-other-sub", "bob")])), "the query is never rewritten")

        let fromCookie = call([("cookie", "a=1; session=\(token)"), ("cookie", "b=2")], settings: settings(["other"]))
        XCTAssertEqual(fromCookie, .headers(.continue, HeaderMutation(set: [WireHeader("x-other-sub", "bob"), WireHeader("cookie", "a=1; b=2")])))

        let onlyCookie = call([("cookie", "session=\(token)")], settings: settings(["other"]))
        XCTAssertEqual(onlyCookie, .headers(.continue, HeaderMutation(set: [WireHeader("x-other-sub", "bob")], remove: ["cookie"])))
    }

    func testForwardKeepsTheToken() {
        let answer = call([("cookie", "jwt=\(mainToken())")], settings: settings(["kept"]))
        XCTAssertEqual(answer, .headers(.continue, HeaderMutation()))
    }

    func testRequiresAnyTakesTheFirstProviderThatVerifies() {
        let other = TestSigner.edDSA.token(#"{"sub":"bob"}"#, headerExtra: #""kid":"other""#)
        guard case .headers(.continue, let mutation) = call([("x-token", other)], settings: settings(["main", "other"])) else {
            return XCTFail("other verifies")
        }
        XCTAssertEqual(mutation.set, [WireHeader("x-other-sub", "bob")])
        XCTAssertEqual(Set(mutation.remove), ["x-jwt-sub", "x-jwt-roles", "x-jwt-evil", "x-jwt-payload", "x-token"])
    }

    func testA403FromOneProviderWinsOverA401FromAnother() {
        let wrongAudience = TestSigner.es256.token(#"{"iss":"https://issuer","aud":"nope"}"#, headerExtra: #""kid":"main""#)
        let answer = call([("authorization", "Bearer \(wrongAudience)"), ("x-token", "garbage")], settings: settings(["other", "main"]))
        XCTAssertEqual(localReply(answer)?.status, 403)
    }

    func testAllowMissingLetsTokenlessRequestsThroughButNotInvalidOnes() {
        XCTAssertEqual(call([], settings: settings(["main"], allowMissing: true)),
                       .headers(.continue, HeaderMutation(remove: ["x-jwt-sub", "x-jwt-roles", "x-jwt-evil", "x-jwt-payload"])))
        XCTAssertEqual(localReply(call([("authorization", "Bearer a.b.c")], settings: settings(["main"], allowMissing: true)))?.status, 401)
    }

    func testUnreadableSettingsAreAFailureForTheKernelsPolicy() {
        for bad in ["", "{", #"{"version":2}"#, #"{"version":1,"max_token_bytes":1,"allow_missing":false,"providers":[]}"#] {
            guard case .failure(.badInput, let message) = call([], settings: bad) else { return XCTFail(bad) }
            XCTAssertTrue(message.hasPrefix("jwt_authn settings:"), message)
        }
    }

    func testAMissingJWKSFileIs401AndReloadReportsIt() throws {
        let missing = JWTAuthnConfig(providers: [JWTProvider(name: "gone", jwksFile: "gone.json")])
            .settingsJSON(for: JWTRequirement(providers: ["gone"]))
        let reply = try XCTUnwrap(localReply(call([("authorization", "Bearer \(mainToken())")], settings: missing)))
        XCTAssertEqual(reply.status, 401)
        XCTAssertEqual(reply.reason, "jwks_unavailable")
        XCTAssertThrowsError(try filter.reload(payload: ""))
    }

    func testRealmIsTheURLWithoutQueryAndQuoteSafe() {
        let view = RequestView(headers: [WireHeader(":scheme", "http"), WireHeader(":authority", "h\"x"), WireHeader(":path", "/a\\b c?q=\"")])
        XCTAssertEqual(AuthnReply.realm(view), "http://hx/abc")
    }

    func testTheSettingsHerzCoreRendersParseBackToTheConfig() throws {
        let parsed = try AuthnSettings.parse(settings(["main", "other"], allowMissing: true))
        XCTAssertEqual(parsed.allowMissing, true)
        XCTAssertEqual(parsed.maxTokenBytes, JWTAuthnConfig.defaultMaxTokenBytes)
        XCTAssertEqual(parsed.providers.map(\.name), ["main", "other"])
        XCTAssertEqual(parsed.providers[0], ProviderSettings(
            name: "main", jwksFile: "main.json",
            requirements: ClaimRequirements(issuer: "https://issuer", audiences: ["api"], clockSkewSeconds: 60),
            locations: [.header(name: "authorization", prefix: "Bearer ")], forward: false, payloadHeader: "x-jwt-payload",
            claimHeaders: [ClaimHeader(header: "x-jwt-sub", claim: "sub"), ClaimHeader(header: "x-jwt-roles", claim: "realm.roles"),
                           ClaimHeader(header: "x-jwt-evil", claim: "evil")]))
        XCTAssertEqual(parsed.providers[1].locations, [.header(name: "x-token", prefix: ""), .queryParameter("access_token"), .cookie("session")])
    }
}
