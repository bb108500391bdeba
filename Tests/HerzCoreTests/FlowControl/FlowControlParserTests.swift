import NIOCore
import XCTest
@testable import HerzCore

/// Golden tests: valid files parse to the model the grammar promises, and print back as canonical
/// text that parses to the same model.
final class FlowControlParserTests: XCTestCase {
    func testIssueExampleGolden() throws {
        let rules = try XCTUnwrap(FlowTest.parse(FlowTest.example))
        XCTAssertEqual(rules.description, """
        rule "orders-post" {
          match: method == "POST" && path.startsWith("/order") && header["x-tenant"] in ["a", "b"]
          limit: { rate: 100/s, burst: 200, key: client_ip }
          limit: { concurrency: 50, key: header["x-tenant"] }
          on_limit: reject(429, retry_after: auto)
        }

        rule "internal" {
          match: client_ip in [10.0.0.0/8, "fd00::/8"] || metadata["jwt.sub"].exists()
          limit: { rate: 1000/s, burst: 1000, scope: global, on_store_failure: local(50/s, burst: 50) }
          on_limit: delay(max: 200ms)
        }

        cluster "backend-v1" {
          weight: dynamic(latency_p95) { base: 80, decay: 0.5, min: 5 }
          breaker: { error_rate > 50% over 10s, min_requests: 20, open_for: 5s, half_open_probes: 3 }
        }

        """)
    }

    func testIssueExampleModel() throws {
        let rules = try XCTUnwrap(FlowTest.parse(FlowTest.example))
        let orders = try XCTUnwrap(rules.rule(named: "orders-post"))
        XCTAssertEqual(orders.location, SourceLocation(file: "rules.flow", line: 2, column: 6))
        XCTAssertEqual(orders.match, .all([
            .predicate(.equals(.method, "POST")),
            .predicate(.hasPrefix(.path, "/order")),
            .predicate(.oneOf(.header("x-tenant"), ["a", "b"])),
        ]))
        XCTAssertEqual(orders.limits.map(\.kind), [.rate(FlowRate(count: 100, periodNanos: FlowTest.second), burst: 200), .concurrency(50)])
        XCTAssertEqual(orders.limits.map(\.key), [FlowKey([.clientIP]), FlowKey([.header("x-tenant")])])
        XCTAssertEqual(orders.limits[0].location, SourceLocation(file: "rules.flow", line: 4, column: 12))
        XCTAssertEqual(orders.onLimit, .reject(status: 429, retryAfter: .auto))

        let internalRule = try XCTUnwrap(rules.rule(named: "internal"))
        XCTAssertEqual(internalRule.limits[0].scope, .global(onStoreFailure: .local(FlowRate(count: 50, periodNanos: FlowTest.second), burst: 50)))
        XCTAssertEqual(internalRule.onLimit, .delay(max: .milliseconds(200)))

        let cluster = try XCTUnwrap(rules.cluster(named: "backend-v1"))
        XCTAssertEqual(cluster.weight, FlowWeightPolicy(signal: .latencyP95, base: 80, decay: 0.5, minimum: 5))
        XCTAssertEqual(cluster.breaker, FlowBreakerPolicy(errorRateThreshold: 0.5, window: .seconds(10), minRequests: 20,
                                                          openFor: .seconds(5), halfOpenProbes: 3))
    }

    func testDefaults() throws {
        let rules = try XCTUnwrap(FlowTest.parse("""
        rule "r" { match: true  limit: { rate: 10/m } }
        cluster "c" { breaker: { error_rate >= 12.5% over 30s } }
        cluster "w" { weight: dynamic(error_rate) }
        """))
        XCTAssertEqual(rules.rules[0].limits[0].kind, .rate(FlowRate(count: 10, periodNanos: 60 * FlowTest.second), burst: 10))
        XCTAssertEqual(rules.rules[0].limits[0].key, FlowKey([]))
        XCTAssertEqual(rules.rules[0].limits[0].scope, .local)
        XCTAssertEqual(rules.rules[0].onLimit, .defaultAction)
        XCTAssertEqual(rules.clusters[0].breaker, FlowBreakerPolicy(errorRateThreshold: 0.125, inclusive: true, window: .seconds(30),
                                                                    minRequests: 20, openFor: .seconds(5), halfOpenProbes: 1))
        XCTAssertEqual(rules.clusters[1].weight, FlowWeightPolicy(signal: .errorRate, base: 100, decay: 0.5, minimum: 1))
    }

    func testRatesDurationsAndOnLimitForms() throws {
        let rules = try XCTUnwrap(FlowTest.parse("""
        rule "a" { match: true, limit: { rate: 10/250ms, burst: 1 }, on_limit: shadow }
        rule "b" { match: true, limit: { rate: 5/h }, on_limit: reject }
        rule "c" { match: true, limit: { rate: 7/1m30s }, on_limit: reject(503, retry_after: none) }
        rule "d" { match: true, limit: { rate: 1/s }, on_limit: reject(retry_after: 90s) }
        rule "e" { match: true, limit: { rate: 1/s, scope: global, on_store_failure: allow }, on_limit: delay(max: 1.5s) }
        """))
        XCTAssertEqual(rules.rules.map { $0.limits[0].kind }, [
            .rate(FlowRate(count: 10, periodNanos: 250 * FlowTest.millisecond), burst: 1),
            .rate(FlowRate(count: 5, periodNanos: 3_600 * FlowTest.second), burst: 5),
            .rate(FlowRate(count: 7, periodNanos: 90 * FlowTest.second), burst: 7),
            .rate(FlowRate(count: 1, periodNanos: FlowTest.second), burst: 1),
            .rate(FlowRate(count: 1, periodNanos: FlowTest.second), burst: 1),
        ])
        XCTAssertEqual(rules.rules.map(\.onLimit), [
            .shadow, .defaultAction, .reject(status: 503, retryAfter: .none), .reject(status: 429, retryAfter: .fixed(seconds: 90)),
            .delay(max: .milliseconds(1_500)),
        ])
        XCTAssertEqual(rules.rules[4].limits[0].scope, .global(onStoreFailure: .allow))
    }

    func testKeysAndAttributes() throws {
        let rules = try XCTUnwrap(FlowTest.parse("""
        rule "k" {
          match: host == "API.Example.com" && query["v"] != "1" && !header["X-Debug"].exists()
          limit: { rate: 1/s, key: [client_ip, header["X-Tenant"], metadata["jwt.sub"], query["id"]] }
        }
        """))
        XCTAssertEqual(rules.rules[0].match, .all([
            .predicate(.equals(.host, "api.example.com")),
            .not(.predicate(.equals(.query("v"), "1"))),
            .not(.predicate(.exists(.header("x-debug")))),
        ]))
        XCTAssertEqual(rules.rules[0].limits[0].key.description, #"[client_ip, header["x-tenant"], metadata["jwt.sub"], query["id"]]"#)
    }

    func testPrecedenceAndParentheses() {
        let a = FlowExpr.predicate(.equals(.method, "GET"))
        let b = FlowExpr.predicate(.hasPrefix(.path, "/b"))
        let c = FlowExpr.predicate(.hasSuffix(.path, ".json"))
        let m = #"method == "GET""#, p = #"path.startsWith("/b")"#, s = #"path.endsWith(".json")"#
        XCTAssertEqual(FlowTest.match("\(m) || \(p) && \(s)"), .any([a, .all([b, c])]))
        XCTAssertEqual(FlowTest.match("(\(m) || \(p)) && \(s)"), .all([.any([a, b]), c]))
        XCTAssertEqual(FlowTest.match("!\(p) && \(s)"), .all([.not(b), c]))
        XCTAssertEqual(FlowTest.match("!(\(m) || \(p))"), .not(.any([a, b])))
        XCTAssertEqual(FlowTest.match("\(m) && \(p) && \(s)"), .all([a, b, c]))
        XCTAssertEqual(FlowTest.match("(\(m) && \(p)) && \(s)"), .all([.all([a, b]), c]))
        XCTAssertEqual(FlowTest.match(#"method != "GET""#), .not(a))
    }

    func testCommentsCommasAndNewlinesAreOptionalSeparators() throws {
        let compact = try XCTUnwrap(FlowTest.parse(#"rule "r"{match:method=="GET" limit:{rate:1/s key:client_ip}on_limit:shadow}"#))
        let spaced = try XCTUnwrap(FlowTest.parse("""
        rule "r" {   # comment
          match: method == "GET",
          limit: {
            rate: 1/s,
            key: client_ip,   # trailing comma allowed
          },
          on_limit: shadow
        }
        """))
        XCTAssertEqual(compact.rules.map(\.description), spaced.rules.map(\.description))
    }

    func testCanonicalTextParsesToTheSameModel() throws {
        let sources = [
            FlowTest.example,
            #"rule "x" { match: !(method == "GET" || path in ["/a", "/b"]) && (host.endsWith(".internal") || client_ip != 10.0.0.1) limit: { rate: 3/s } }"#,
            #"rule "y" { match: path.matches("^/v[0-9]+/.*\"q\\\\") && !!true && ((false)) limit: { concurrency: 2, key: query["k"] } }"#,
            #"rule "z" { match: client_ip in "2001:db8::/32" limit: { rate: 1/s } }"#,
        ]
        for source in sources {
            let first = try XCTUnwrap(FlowTest.parse(source))
            let second = try XCTUnwrap(FlowTest.parse(first.description), "canonical text:\n\(first)")
            XCTAssertEqual(first.rules.map(\.match), second.rules.map(\.match))
            XCTAssertEqual(first.description, second.description)
        }
    }
}
