import NIOCore
import XCTest
@testable import HerzCore

/// `request_mirror_policies`, the `fault` filter's config, their errors, dump and the shadow host.
final class TrafficConfigTests: XCTestCase {
    private let clusters = "- { name: a, endpoints: [\"127.0.0.1:9001\"] }\n- { name: shadow, endpoints: [\"127.0.0.1:9002\"] }"

    func testMirrorPolicies() throws {
        let yaml = config(route: """
        - match: { prefix: "/" }
          route:
            cluster: a
            request_mirror_policies:
              - { cluster: shadow, percent: 25.5, max_body_bytes: 1MiB }
              - { cluster: shadow }
        """, clusters: clusters)
        let loaded = try XCTUnwrap(parseOK(yaml))
        let route = loaded.listeners[0].router.virtualHosts[0].routes[0]
        XCTAssertEqual(route.mirrorPolicies, [
            RequestMirrorPolicy(cluster: "shadow", percent: Percentage(percent: 25.5), maxBodyBytes: 1 << 20),
            RequestMirrorPolicy(cluster: "shadow", percent: .all, maxBodyBytes: 64 * 1024),
        ])
        // The dump parses back into an equal config.
        let again = try ConfigLoader.parse(yaml: loaded.redactedDump(), source: "dump.json")
        XCTAssertEqual(again.listeners[0].router, loaded.listeners[0].router)
    }

    func testUnknownMirrorClusterAndBadPercentAreReportedAtTheirPlace() {
        let yaml = config(route: """
        - match: { prefix: "/" }
          route:
            cluster: a
            request_mirror_policies:
              - { cluster: nope }
              - { cluster: a, percent: 101 }
              - { cluster: a, percent: lots }
        """)
        let found = parseErrors(yaml).map { "\($0.at) \($0.description)" }
        XCTAssertEqual(found.count, 3, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("15:36 ") && $0.contains("unknown cluster 'nope'") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("16:48 ") && $0.contains("must be in 0...100") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("17:48 ") && $0.contains("a number in 0...100") }, "\(found)")
    }

    func testFaultFilterAndRouteOverride() throws {
        let yaml = config(filters: """
        - type: fault
          config:
            delay: { fixed_delay: 50ms, percent: 10 }
            abort: { http_status: 503, percent: 0.5 }
            headers_enabled: true
            max_active_faults: 100
        """, route: """
        - match: { prefix: "/grpc" }
          route: { cluster: a }
          per_filter_config: { fault: { abort: { grpc_status: 14 } } }
        - match: { prefix: "/calm" }
          route: { cluster: a }
          per_filter_config: { fault: { disabled: true } }
        """)
        let loaded = try XCTUnwrap(parseOK(yaml))
        XCTAssertEqual(loaded.listeners[0].filters, [.fault(FaultFilterConfig(
            delay: .init(fixed: .milliseconds(50), percent: Percentage(percent: 10)),
            abort: .init(kind: .http(503), percent: Percentage(percent: 0.5)), headersEnabled: true, maxActiveFaults: 100))])
        let routes = loaded.listeners[0].router.virtualHosts[0].routes
        XCTAssertEqual(routes[0].perFilterConfig["fault"], .fault(FaultFilterConfig(abort: .init(kind: .grpc(14)))))
        XCTAssertEqual(routes[1].perFilterConfig["fault"], .fault(FaultFilterConfig(disabled: true)))
        let again = try ConfigLoader.parse(yaml: loaded.redactedDump(), source: "dump.json")
        XCTAssertEqual(again.listeners[0].filters, loaded.listeners[0].filters)
        XCTAssertEqual(again.listeners[0].router, loaded.listeners[0].router)
    }

    func testFaultErrors() {
        func messages(_ filter: String) -> [String] { parseErrors(config(filters: filter)).map(\.description) }
        XCTAssertTrue(messages("- { type: fault, config: { abort: { http_status: 600 } } }").joined().contains("must be in 200...599"))
        XCTAssertTrue(messages("- { type: fault, config: { abort: { grpc_status: 2, http_status: 500 } } }").joined().contains("exactly one of"))
        XCTAssertTrue(messages("- { type: fault, config: { delay: { percent: 5 } } }").joined().contains("fixed_delay"))
        XCTAssertTrue(messages("- { type: fault, config: { disabled: true } }").joined().contains("per_filter_config"))
        XCTAssertTrue(messages("- { type: fault }").joined().contains("config"))
    }

    func testShadowHost() {
        XCTAssertEqual(ShadowHost.make("api.example.com"), "api.example.com-shadow")
        XCTAssertEqual(ShadowHost.make("api.example.com:8080"), "api.example.com-shadow:8080")
        XCTAssertEqual(ShadowHost.make("127.0.0.1:80"), "127.0.0.1-shadow:80")
        XCTAssertEqual(ShadowHost.make("[::1]:8080"), "[::1]-shadow:8080")
        XCTAssertEqual(ShadowHost.make("[::1]"), "[::1]-shadow")
    }
}
