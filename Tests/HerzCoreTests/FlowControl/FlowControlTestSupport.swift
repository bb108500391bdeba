import XCTest
@testable import HerzCore

/// Shared helpers for the FlowControl tests.
enum FlowTest {
    static let second: UInt64 = 1_000_000_000
    static let millisecond: UInt64 = 1_000_000

    /// The example file, used by several tests.
    static let example = """
    # traffic policy for the API
    rule "orders-post" {
      match:   method == "POST" && path.startsWith("/order") && header["x-tenant"] in ["a", "b"]
      limit:   { rate: 100/s, burst: 200, key: client_ip }          # token bucket
      limit:   { concurrency: 50, key: header["x-tenant"] }         # in-flight cap
      on_limit: reject(429, retry_after: auto)
    }
    rule "internal" {
      match: client_ip in [10.0.0.0/8, "fd00::/8"] || metadata["jwt.sub"].exists()
      limit: { rate: 1000/s, scope: global, on_store_failure: local(50/s) }
      on_limit: delay(max: 200ms)
    }
    cluster "backend-v1" {
      weight:  dynamic(latency_p95) { base: 80, decay: 0.5, min: 5 }
      breaker: { error_rate > 50% over 10s, min_requests: 20, open_for: 5s, half_open_probes: 3 }
    }

    """

    static func parse(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> FlowRules? {
        do {
            return try FlowRules.parse(source: source, file: "rules.flow")
        } catch {
            XCTFail("unexpected errors:\n\(error)", file: file, line: line)
            return nil
        }
    }

    /// Every diagnostic as `line:col: message` (the file name is always `rules.flow`).
    static func errors(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try FlowRules.parse(source: source, file: "rules.flow")
            XCTFail("expected errors, the file parsed", file: file, line: line)
            return []
        } catch {
            return error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        }
    }

    /// The match expression of a one-rule file `rule "r" { match: EXPR  limit: { concurrency: 1 } }`.
    static func match(_ expression: String, file: StaticString = #filePath, line: UInt = #line) -> FlowExpr? {
        parse("rule \"r\" { match: \(expression)\n limit: { concurrency: 1 } }", file: file, line: line)?.rules.first?.match
    }

    static func request(_ method: String = "GET", _ target: String = "/", host: String = "api.example.com",
                        ip: String? = "192.0.2.1", headers: [(String, String)] = [], metadata: [String: String] = [:]) -> FlowRequestValues {
        FlowRequestValues(method: method, target: target, host: host, clientIP: ip, headers: headers, metadata: metadata)
    }
}
