import NIOHTTP1
import XCTest
@testable import HerzCore

/// The kernel's thin `jwt_authn` side: which requests need a coprocessor call (rules, route
/// overrides), that output headers never come from the client, that the call filter sees every
/// callback of the stream, and that without a coprocessor runtime it fails closed.
final class JWTAuthnFilterTests: XCTestCase {
    static let config = JWTAuthnConfig(
        providers: [
            JWTProvider(name: "a", jwksFile: "a.json", forwardPayloadHeader: "x-jwt-payload",
                        claimToHeaders: [.init(headerName: "x-jwt-sub", claimName: "sub")]),
            JWTProvider(name: "b", jwksFile: "b.json", claimToHeaders: [.init(headerName: "X-B-Sub", claimName: "sub")]),
        ],
        rules: [
            JWTRule(match: RouteMatch(path: .prefix("/public")), requires: nil),
            JWTRule(match: RouteMatch(path: .exact("/b"), methods: ["POST"]), requires: JWTRequirement(providers: ["b"])),
            JWTRule(match: RouteMatch(path: .regex("/any/[0-9]+")), requires: JWTRequirement(providers: ["a", "b"], allowMissing: true)),
            JWTRule(match: RouteMatch(path: .prefix("/api")), requires: JWTRequirement(providers: ["a"])),
        ],
        requirementMap: ["only_b": JWTRequirement(providers: ["b"])])

    let table = JWTAuthnRequirementTable(config: JWTAuthnFilterTests.config)

    func head(_ method: HTTPMethod = .GET, _ uri: String, _ headers: HTTPHeaders = [:]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
    }

    func route(_ override: JWTAuthnPerRouteConfig?) -> RouteEntry {
        RouteEntry(name: "r", match: RouteMatch(path: .prefix("/")), action: .cluster("c"),
                   perFilterConfig: override.map { ["jwt_authn": .jwtAuthnPerRoute($0)] } ?? [:])
    }

    func settings(_ providers: [String], allowMissing: Bool = false) -> CoprocFilterConfig {
        CoprocFilterConfig(coprocessor: "jwt", phases: [.requestHeaders],
                           settingsJSON: Self.config.settingsJSON(for: JWTRequirement(providers: providers, allowMissing: allowMissing)))
    }

    func testRulesFirstMatchWinsAndUnmatchedRequestsNeedNoToken() {
        XCTAssertNil(table.call(for: head(.GET, "/public/api"), route: nil), "a rule without requires")
        XCTAssertEqual(table.call(for: head(.POST, "/b"), route: nil), settings(["b"]))
        XCTAssertNil(table.call(for: head(.GET, "/b"), route: nil), "methods must match too")
        XCTAssertEqual(table.call(for: head(.GET, "/any/42?x=1"), route: nil), settings(["a", "b"], allowMissing: true))
        XCTAssertEqual(table.call(for: head(.GET, "/api/v1?token=x"), route: nil), settings(["a"]))
        XCTAssertNil(table.call(for: head(.GET, "/other"), route: nil))
    }

    func testRouteOverridesComeFirst() {
        XCTAssertNil(table.call(for: head(.GET, "/api"), route: route(.disabled)))
        XCTAssertEqual(table.call(for: head(.GET, "/public"), route: route(.requirementName("only_b"))), settings(["b"]))
        XCTAssertEqual(table.call(for: head(.GET, "/api"), route: route(nil)), settings(["a"]))
    }

    func testTheCallFilterSeesEveryCallbackOfAStreamThatNeedsAToken() {
        let h = Harness(["next"])
        let info = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "r")
        let call = ScriptFilter("call", log: h.log)
        let made = MadeCalls()
        let filter = JWTAuthnFilter(table: table, streamInfo: info) { config, _ in made.configs.append(config); return call }
        let manager = FilterManager(filters: [filter, h["next"]], streamInfo: info, bufferLimit: 1 << 20, sink: h.sink)
        manager.decodeHeaders(head(.POST, "/api/x"), endStream: false)
        manager.decodeData(buf("body"), endStream: true)
        manager.encodeHeaders(Harness.responseHead(), endStream: true)
        XCTAssertEqual(made.configs, [settings(["a"])])
        XCTAssertEqual(h.log.view("call"), ["dh", "dd(body,E)", "eh(200,E)", "done"])
        XCTAssertEqual(h.violations, [])
    }

    func testAStreamThatNeedsNoTokenNeverMakesACall() {
        let h = Harness(["next"])
        let info = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "r")
        let filter = JWTAuthnFilter(table: table, streamInfo: info) { _, _ in XCTFail("no call expected"); return PassThroughFilter() }
        let manager = FilterManager(filters: [filter, h["next"]], streamInfo: info, bufferLimit: 1 << 20, sink: h.sink)
        manager.decodeHeaders(head(.GET, "/public"), endStream: true)
        XCTAssertEqual(h.log.view("next"), ["dh(E)"])
        XCTAssertEqual(h.log.sink, ["fwd.head(E)"])
    }

    func testOutputHeadersFromTheClientAreAlwaysRemoved() throws {
        for uri in ["/public", "/api/x"] {
            let h = Harness([])
            let info = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "r")
            let filter = JWTAuthnFilter(table: table, streamInfo: info) { _, _ in PassThroughFilter() }
            let manager = FilterManager(filters: [filter], streamInfo: info, bufferLimit: 1 << 20, sink: h.sink)
            manager.decodeHeaders(head(.GET, uri, ["X-JWT-Sub": "admin", "x-b-sub": "root", "x-jwt-payload": "e30", "x-keep": "1"]), endStream: true)
            guard case .forwardRequestHead(let forwarded, _)? = h.sink.actions.first else { return XCTFail("not forwarded") }
            XCTAssertEqual(forwarded.headers.map(\.name), ["x-keep"], uri)
        }
    }

    func testWithoutACoprocessorRuntimeRequestsThatNeedATokenFailClosed() {
        let factories = makeFilterFactories([.jwtAuthn(Self.config)])
        for (uri, expected) in [("/api/x", ["resp.head(503)", "resp.data(coprocessor jwt unavailable (down),E)", "complete"]),
                                ("/public", ["fwd.head(E)"])] {
            let h = Harness([])
            let info = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "r")
            let manager = FilterManager(filters: factories.map { $0.makeFilter(streamInfo: info) }, streamInfo: info, bufferLimit: 1024, sink: h.sink)
            manager.decodeHeaders(head(.GET, uri), endStream: true)
            XCTAssertEqual(h.log.sink, expected, uri)
        }
    }
}

/// The call configs a test's JWTAuthnFilter asked for (its maker runs on the test's thread).
final class MadeCalls: @unchecked Sendable {
    var configs: [CoprocFilterConfig] = []
}
