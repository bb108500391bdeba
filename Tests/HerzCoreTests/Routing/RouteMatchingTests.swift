import NIOHTTP1
import XCTest
@testable import HerzCore

final class RouteMatchingTests: XCTestCase {
    /// Routes in order; the expected result is the route's name.
    static let routes: [RouteEntry] = [
        RouteEntry(name: "exact-health", match: RouteMatch(path: .exact("/healthz")), action: .cluster("c")),
        RouteEntry(name: "regex-users", match: RouteMatch(path: .regex("/users/[0-9]+")), action: .cluster("c")),
        RouteEntry(name: "ci-admin", match: RouteMatch(path: .prefix("/Admin"), caseSensitive: false), action: .cluster("c")),
        RouteEntry(name: "ci-regex", match: RouteMatch(path: .regex("/docs/[a-z]+"), caseSensitive: false), action: .cluster("c")),
        RouteEntry(name: "ci-exact", match: RouteMatch(path: .exact("/Login"), caseSensitive: false), action: .cluster("c")),
        RouteEntry(name: "post-only", match: RouteMatch(path: .prefix("/upload"), methods: ["POST", "PUT"]), action: .cluster("c")),
        RouteEntry(name: "canary", match: RouteMatch(path: .prefix("/api"), headers: [HeaderMatcher(name: "x-canary", kind: .exact("yes"))]), action: .cluster("c")),
        RouteEntry(name: "not-debug", match: RouteMatch(path: .prefix("/api"), headers: [HeaderMatcher(name: "x-debug", kind: .present, invert: true)]), action: .cluster("c")),
        RouteEntry(name: "curl", match: RouteMatch(path: .prefix("/api"), headers: [
            HeaderMatcher(name: "user-agent", kind: .regex("curl/.*")),
            HeaderMatcher(name: "x-tier", kind: .exact("gold"), invert: true),
        ]), action: .cluster("c")),
        RouteEntry(name: "api-case", match: RouteMatch(path: .prefix("/API")), action: .cluster("c")),
        RouteEntry(name: "v1", match: RouteMatch(path: .prefix("/v1")), action: .cluster("c")),
        RouteEntry(name: "propfind", match: RouteMatch(path: .prefix("/dav"), methods: ["PROPFIND"]), action: .cluster("c")),
    ]

    func testRouteMatchingTable() throws {
        let table = try RouteTable(router: RouterConfig(virtualHosts: [VirtualHostConfig(name: "vh", domains: ["*"], routes: Self.routes)]))
        typealias Row = (uri: String, method: HTTPMethod, headers: [(String, String)], expected: String?)
        let rows: [Row] = [
            ("/healthz", .GET, [], "exact-health"),
            ("/healthz?verbose=1", .GET, [], "exact-health"),       // query is not part of the path
            ("/healthz#frag", .GET, [], "exact-health"),
            ("/healthz/", .GET, [], nil),
            ("/HEALTHZ", .GET, [], nil),                            // case-sensitive by default
            ("/users/42", .GET, [], "regex-users"),
            ("/users/42/x", .GET, [], nil),                         // regex must match the whole path
            ("/x/users/42", .GET, [], nil),
            ("/users/42?q=/users/x", .GET, [], "regex-users"),
            ("/admin/panel", .GET, [], "ci-admin"),
            ("/ADMIN", .GET, [], "ci-admin"),
            ("/Docs/Intro", .GET, [], "ci-regex"),
            ("/login", .GET, [], "ci-exact"),
            ("/LOGIN", .GET, [], "ci-exact"),
            ("/upload/file", .POST, [], "post-only"),
            ("/upload/file", .PUT, [], "post-only"),
            ("/upload/file", .GET, [], nil),
            ("/api/x", .GET, [("X-Canary", "yes")], "canary"),
            ("/api/x", .GET, [("X-Canary", "no"), ("x-canary", "yes")], "canary"),   // any value may match
            ("/api/x", .GET, [("X-Canary", "YES")], "not-debug"),                   // exact value is case-sensitive
            ("/api/x", .GET, [], "not-debug"),
            ("/api/x", .GET, [("x-debug", ""), ("user-agent", "curl/8.0")], "curl"),
            ("/api/x", .GET, [("x-debug", "1"), ("user-agent", "curl/8.0"), ("x-tier", "gold")], nil),
            ("/api/x", .GET, [("x-debug", "1"), ("user-agent", "wget curl/8.0")], nil),
            ("/API/x", .GET, [], "api-case"),
            ("/v1", .GET, [], "v1"),
            ("/v10/anything", .GET, [], "v1"),                       // prefix is a string prefix, as in Envoy
            ("http://example.com/v1/x?y", .GET, [], "v1"),            // absolute-form target
            ("/dav/a", HTTPMethod(rawValue: "PROPFIND"), [], "propfind"),
            ("/dav/a", .GET, [], nil),
            ("/v", .GET, [], nil),
            ("", .GET, [], nil),
        ]
        for row in rows {
            let head = HTTPRequestHeadBuilder.get(row.uri, host: "h", method: row.method, headers: row.headers)
            let result = table.match(authority: nil, head: head)
            XCTAssertEqual(result?.route.name, row.expected, "\(row.method) \(row.uri) \(row.headers)")
            if let result, let expected = row.expected {
                XCTAssertEqual(result.routeIndex, Self.routes.firstIndex { $0.name == expected })
                XCTAssertEqual(result.virtualHost, "vh")
            }
        }
    }

    func testFirstMatchWinsInConfigOrder() throws {
        let routes = [
            RouteEntry(name: "broad", match: RouteMatch(path: .prefix("/")), action: .cluster("a")),
            RouteEntry(name: "narrow", match: RouteMatch(path: .prefix("/api")), action: .cluster("b")),
        ]
        let table = try RouteTable(router: RouterConfig(virtualHosts: [VirtualHostConfig(name: "vh", domains: ["*"], routes: routes)]))
        XCTAssertEqual(table.match(authority: "x", head: HTTPRequestHeadBuilder.get("/api"))?.route.name, "broad")
    }

    func testRouteTableFromLoadedConfig() throws {
        let config = try XCTUnwrap(parseOK(HerzCoreTests.config(route: """
            - match: { prefix: "/v1", headers: [{ name: X-Env, present: false }] }
              route: { cluster: a }
            - match: { prefix: "/v1", methods: [delete] }
              route: { cluster: a }
            """)))
        let table = try RouteTable(router: config.listeners[0].router)
        XCTAssertEqual(table.match(authority: "h", head: HTTPRequestHeadBuilder.get("/v1"))?.route.name, "vh/0")
        XCTAssertEqual(table.match(authority: "h", head: HTTPRequestHeadBuilder.get("/v1", method: .DELETE, headers: [("x-env", "1")]))?.route.name, "vh/1")
        XCTAssertNil(table.match(authority: "h", head: HTTPRequestHeadBuilder.get("/v1", headers: [("x-env", "1")])))
    }
}
