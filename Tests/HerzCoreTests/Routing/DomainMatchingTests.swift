import NIOHTTP1
import XCTest
@testable import HerzCore

final class DomainMatchingTests: XCTestCase {
    static func router(_ hosts: [(String, [String])]) -> RouterConfig {
        RouterConfig(virtualHosts: hosts.map { name, domains in
            VirtualHostConfig(name: name, domains: domains, routes: [RouteEntry(name: "\(name)/0", match: RouteMatch(path: .prefix("/")), action: .cluster(name))])
        })
    }

    func testPrecedenceExactThenSuffixThenPrefixThenAny() throws {
        let table = try RouteTable(router: Self.router([
            ("any", ["*"]),
            ("prefix-short", ["api.*"]),
            ("prefix-long", ["api.example.*"]),
            ("suffix-short", ["*.com"]),
            ("suffix-long", ["*.example.com"]),
            ("dash-suffix", ["*-bar.foo.org"]),
            ("exact", ["api.example.com", "Mixed.Example.NET"]),
            ("with-port", ["ports.example.io:8443"]),
            ("v6", ["[::1]"]),
        ]))
        let table2: [(String?, String?)] = [
            ("api.example.com", "exact"),
            ("API.Example.COM", "exact"),
            ("api.example.com:8080", "exact"),
            ("mixed.example.net", "exact"),
            ("www.example.com", "suffix-long"),          // longest suffix beats shorter suffix
            ("a.b.example.com", "suffix-long"),
            ("other.com", "suffix-short"),
            ("api.example.org", "prefix-long"),          // suffix wildcards first, then longest prefix
            ("api.other.org", "prefix-short"),
            ("api.example.com.evil", "prefix-long"),
            ("foo-bar.foo.org", "dash-suffix"),
            ("-bar.foo.org", "any"),                      // a wildcard stands for at least one character
            ("bar.foo.org", "any"),
            (".com", "any"),
            ("example.net", "any"),
            ("ports.example.io:8443", "with-port"),       // pattern with port matches host with that port
            ("ports.example.io:9000", "any"),
            ("ports.example.io", "any"),
            ("[::1]:8080", "v6"),
            ("[::1]", "v6"),
            ("", "any"),
            (nil, "any"),
        ]
        for (authority, expected) in table2 {
            let head = HTTPRequestHeadBuilder.get("/", host: authority)
            XCTAssertEqual(table.match(authority: nil, head: head)?.virtualHost, expected, "Host: \(authority ?? "<none>")")
            if let authority {
                XCTAssertEqual(table.match(authority: authority, head: HTTPRequestHeadBuilder.get("/"))?.virtualHost, expected, ":authority \(authority)")
            }
        }
    }

    func testNoCatchAllMeansNoMatch() throws {
        let table = try RouteTable(router: Self.router([("exact", ["a.example"]), ("suffix", ["*.b.example"])]))
        XCTAssertNil(table.match(authority: "c.example", head: HTTPRequestHeadBuilder.get("/")))
        XCTAssertNil(table.match(authority: "b.example", head: HTTPRequestHeadBuilder.get("/")))
        XCTAssertEqual(table.match(authority: "x.b.example", head: HTTPRequestHeadBuilder.get("/"))?.virtualHost, "suffix")
        XCTAssertEqual(table.match(authority: "x.b.example", head: HTTPRequestHeadBuilder.get("/"))?.virtualHostIndex, 1)
    }

    func testAuthorityWinsOverHostHeader() throws {
        let table = try RouteTable(router: Self.router([("a", ["a.example"]), ("b", ["b.example"])]))
        let head = HTTPRequestHeadBuilder.get("/", host: "b.example")
        XCTAssertEqual(table.match(authority: "a.example", head: head)?.virtualHost, "a")
        XCTAssertEqual(table.match(authority: nil, head: head)?.virtualHost, "b")
    }

    func testInvalidTablesThrow() {
        XCTAssertThrowsError(try RouteTable(router: Self.router([("a", ["x.example"]), ("b", ["X.example"])]))) { error in
            XCTAssertEqual(error as? RouteTableError, .duplicateDomain("exact(\"x.example\")"))
        }
        XCTAssertThrowsError(try RouteTable(router: Self.router([("a", ["a.*.example"])])))
        XCTAssertThrowsError(try RouteTable(router: RouterConfig(virtualHosts: [VirtualHostConfig(
            name: "v", domains: ["*"], routes: [RouteEntry(name: "r", match: RouteMatch(path: .regex("(")), action: .cluster("c"))])]))) { error in
            XCTAssertEqual(error as? RouteTableError, .invalidRegex(pattern: "(", reason: "does not compile"))
        }
    }
}
