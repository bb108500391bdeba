import NIOHTTP1
import XCTest
@testable import HerzCore

final class RouteRewriterTests: XCTestCase {
    func testPrefixAndHostRewrites() {
        typealias Row = (match: RouteMatch, prefixRewrite: String?, hostRewrite: String?, uri: String, expectedURI: String, expectedHost: String)
        let rows: [Row] = [
            (RouteMatch(path: .prefix("/api")), "/v2", nil, "/api/users?x=1", "/v2/users?x=1", "orig"),
            (RouteMatch(path: .prefix("/api/")), "/", nil, "/api/users", "/users", "orig"),
            (RouteMatch(path: .prefix("/api")), "/", nil, "/api", "/", "orig"),
            (RouteMatch(path: .prefix("/API"), caseSensitive: false), "/x", nil, "/api/a#f", "/x/a#f", "orig"),
            (RouteMatch(path: .prefix("/api")), "/v2", nil, "/other", "/other", "orig"),            // not matching: untouched
            (RouteMatch(path: .exact("/login")), "/auth/login", nil, "/login?next=/", "/auth/login?next=/", "orig"),
            (RouteMatch(path: .prefix("/")), nil, "internal.svc", "/a?b", "/a?b", "internal.svc"),
            (RouteMatch(path: .prefix("/a")), "/b", "up.example:8080", "/a/c", "/b/c", "up.example:8080"),
            (RouteMatch(path: .regex("/a.*")), "/b", nil, "/abc", "/abc", "orig"),
        ]
        for row in rows {
            let route = RouteEntry(name: "r", match: row.match, action: .cluster("c"), prefixRewrite: row.prefixRewrite, hostRewrite: row.hostRewrite)
            var head = HTTPRequestHeadBuilder.get(row.uri, host: "orig")
            applyRewrites(for: route, to: &head)
            XCTAssertEqual(head.uri, row.expectedURI, "\(row)")
            XCTAssertEqual(head.headers[canonicalForm: "host"].map(String.init), [row.expectedHost], "\(row)")
        }
    }

    func testHostRewriteAddsHostWhenMissing() {
        let route = RouteEntry(name: "r", match: RouteMatch(path: .prefix("/")), action: .cluster("c"), hostRewrite: "h.example")
        var head = HTTPRequestHeadBuilder.get("/")
        applyRewrites(for: route, to: &head)
        XCTAssertEqual(head.headers["host"], ["h.example"])
    }
}
