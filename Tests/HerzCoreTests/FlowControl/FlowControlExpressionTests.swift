import XCTest
@testable import HerzCore

/// Match expressions evaluated against requests, as the language document promises.
final class FlowControlExpressionTests: XCTestCase {
    private func check(_ expression: String, _ request: FlowRequestValues, _ expected: Bool,
                       file: StaticString = #filePath, line: UInt = #line) {
        guard let compiled = FlowTest.match(expression, file: file, line: line) else { return }
        XCTAssertEqual(compiled.evaluate(request), expected, expression, file: file, line: line)
    }

    func testMethodPathHost() {
        let request = FlowTest.request("POST", "/orders/7?x=1", host: "API.Example.COM:8443")
        check(#"method == "POST""#, request, true)
        check(#"method in ["GET", "HEAD"]"#, request, false)
        check(#"path == "/orders/7""#, request, true)
        check(#"path.startsWith("/order")"#, request, true)
        check(#"path.endsWith("/7")"#, request, true)
        check(#"host == "api.example.com""#, request, true)
        check(#"host.endsWith(".EXAMPLE.com")"#, request, true)
        check(#"host.matches("api\\.example\\.com")"#, request, true)
        check(#"host.matches("api")"#, request, false)
    }

    func testRegexIsAWholeMatch() {
        let request = FlowTest.request("GET", "/v2/users")
        check(#"path.matches("/v[0-9]+/.*")"#, request, true)
        check(#"path.matches("v[0-9]+")"#, request, false)
        check(#"path.matches(".*users")"#, request, true)
    }

    func testAbsentValuesFailEveryTestAndNotEqualIsItsNegation() {
        let request = FlowTest.request(headers: [("X-Tenant", "a")])
        check(#"header["x-tenant"] == "a""#, request, true)
        check(#"header["X-TENANT"].exists()"#, request, true)
        check(#"header["x-other"] == "a""#, request, false)
        check(#"header["x-other"].startsWith("")"#, request, false)
        check(#"header["x-other"].matches(".*")"#, request, false)
        check(#"header["x-other"] != "a""#, request, true)
        check(#"!header["x-other"].exists()"#, request, true)
    }

    func testQueryParametersAreDecoded() {
        check(#"query["q"] == "a b""#, FlowTest.request("GET", "/s?q=a%20b"), true)
        check(#"query["q"] == "a b""#, FlowTest.request("GET", "/s?x=1&q=a+b&q=other"), true)
        check(#"query["q"].exists()"#, FlowTest.request("GET", "/s?q"), true)
        check(#"query["q"] == "%zz""#, FlowTest.request("GET", "/s?q=%zz"), true)
        check(#"query["q"].exists()"#, FlowTest.request("GET", "/s"), false)
    }

    func testClientAddresses() {
        check("client_ip in 10.0.0.0/8", FlowTest.request(ip: "10.9.8.7"), true)
        check("client_ip in 10.0.0.0/8", FlowTest.request(ip: "::ffff:10.9.8.7"), true)
        check(#"client_ip in [192.168.0.0/16, "2001:db8::/32"]"#, FlowTest.request(ip: "2001:db8::5"), true)
        check("client_ip == 192.0.2.1", FlowTest.request(ip: "192.0.2.1"), true)
        check("client_ip != 192.0.2.1", FlowTest.request(ip: "192.0.2.2"), true)
        check("client_ip in 10.0.0.0/8", FlowTest.request(ip: nil), false)
    }

    func testMetadataAndBooleans() {
        let request = FlowTest.request(metadata: ["jwt.sub": "alice", "jwt.scope": "admin read"])
        check(#"metadata["jwt.sub"] in ["alice", "bob"] && metadata["jwt.scope"].startsWith("admin")"#, request, true)
        check(#"metadata["jwt.sub"] == "bob" || !(method == "GET")"#, request, false)
        check("true && !false", request, true)
        check("false || false", request, false)
    }

    func testValuesAreComparedByteForByte() {
        // "é" precomposed vs decomposed: equal as Swift strings, different bytes on the wire.
        let request = FlowTest.request(headers: [("x-name", "e\u{301}")])
        check("header[\"x-name\"] == \"\u{e9}\"", request, false)
        check("header[\"x-name\"] == \"e\u{301}\"", request, true)
    }

    func testKeysNameTheBudget() {
        let request = FlowTest.request(ip: "10.0.0.1", headers: [("x-tenant", "t1")])
        XCTAssertEqual(FlowKey([.clientIP]).value(for: request), "10.0.0.1")
        XCTAssertEqual(FlowKey([.clientIP, .header("x-tenant")]).value(for: request), "10.0.0.1\u{1F}t1")
        XCTAssertEqual(FlowKey([.header("x-missing")]).value(for: request), "")
        XCTAssertEqual(FlowKey([]).value(for: request), "")
    }
}
