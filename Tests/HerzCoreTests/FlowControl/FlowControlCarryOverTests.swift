import XCTest
@testable import HerzCore

/// Reload keeps the state of limits and clusters whose identity is unchanged, and only theirs.
final class FlowControlCarryOverTests: XCTestCase {
    private let second = FlowTest.second

    private func rules(_ source: String) throws -> FlowRules { try XCTUnwrap(FlowTest.parse(source)) }

    private func rateTable(_ state: FlowRuntimeState, _ id: String, file: StaticString = #filePath, line: UInt = #line) -> FlowKeyedTable<FlowTokenBucket>? {
        guard case .rate(let table)? = state.limiters.first(where: { $0.key.description == id })?.value else {
            XCTFail("no rate limiter \(id) in \(state.limiters.keys.map(\.description))", file: file, line: line)
            return nil
        }
        return table
    }

    private func drain(_ state: inout FlowRuntimeState, _ id: FlowLimitID, key: String, times: Int) {
        guard case .rate(var table)? = state.limiters[id] else { return XCTFail("no rate limiter \(id)") }
        let slot = table.slot(for: key, now: 0)
        for _ in 0..<times { _ = table.withEntry(at: slot) { $0.acquire(now: 0) } }
        state.limiters[id] = .rate(table)
    }

    func testUnchangedNameAndKeyKeepTokensEvenWithANewRate() throws {
        let old = try rules(#"rule "api" { match: true limit: { rate: 10/s, key: client_ip } }"#)
        var state = FlowRuntimeState(rules: old, now: 0)
        let id = FlowLimitID(rule: "api", kind: "rate", key: "client_ip")
        drain(&state, id, key: "10.0.0.1", times: 8)

        let new = try rules(#"rule "api" { match: path.startsWith("/v2") limit: { rate: 20/s, burst: 5, key: client_ip } }"#)
        let (next, report) = state.carriedOver(to: new, now: 0)
        XCTAssertEqual(report, FlowCarryOverReport(kept: ["api/rate/client_ip"], fresh: [], dropped: []))
        let table = try XCTUnwrap(rateTable(next, "api/rate/client_ip"))
        XCTAssertEqual(table.configuration, FlowTokenBucket.Configuration(rate: FlowRate(count: 20, periodNanos: second), burst: 5))
        XCTAssertEqual(table.entry(at: .key("10.0.0.1"))?.tokens(now: 0), 2, "2 tokens left, under the new burst of 5")
    }

    func testRenamedRuleOrChangedKeyStartsFresh() throws {
        let old = try rules(#"rule "api" { match: true limit: { rate: 10/s, key: client_ip } limit: { concurrency: 3 } }"#)
        let state = FlowRuntimeState(rules: old, now: 0)
        let renamed = state.carriedOver(to: try rules(#"rule "api2" { match: true limit: { rate: 10/s, key: client_ip } }"#), now: 0).report
        XCTAssertEqual(renamed, FlowCarryOverReport(kept: [], fresh: ["api2/rate/client_ip"], dropped: ["api/concurrency/rule", "api/rate/client_ip"]))
        let rekeyed = state.carriedOver(to: try rules(#"rule "api" { match: true limit: { rate: 10/s, key: header["x-tenant"] } limit: { concurrency: 3 } }"#),
                                        now: 0).report
        XCTAssertEqual(rekeyed.kept, ["api/concurrency/rule"])
        XCTAssertEqual(rekeyed.fresh, [#"api/rate/header["x-tenant"]"#])
        XCTAssertEqual(rekeyed.dropped, ["api/rate/client_ip"])
    }

    func testInFlightCountsSurviveANewCap() throws {
        let old = try rules(#"rule "api" { match: true limit: { concurrency: 5, key: header["x-tenant"] } }"#)
        var state = FlowRuntimeState(rules: old, now: 0)
        let id = FlowLimitID(rule: "api", kind: "concurrency", key: #"header["x-tenant"]"#)
        guard case .concurrency(var table)? = state.limiters[id] else { return XCTFail("no concurrency limiter") }
        let slot = table.slot(for: "t1", now: 0)
        for _ in 0..<4 { _ = table.withEntry(at: slot) { $0.tryAcquire() } }
        state.limiters[id] = .concurrency(table)

        let next = state.carriedOver(to: try rules(#"rule "api" { match: true limit: { concurrency: 2, key: header["X-Tenant"] } }"#), now: 0).state
        guard case .concurrency(var carried)? = next.limiters[id] else { return XCTFail("not carried over") }
        XCTAssertEqual(carried.entry(at: slot)?.inFlight, 4)
        XCTAssertEqual(carried.withEntry(at: slot) { $0.tryAcquire() }, false)
        XCTAssertEqual(carried.withEntry(at: slot) { $0.release() }, true, "releases of requests admitted before the reload land where they were counted")
    }

    func testLimitsWithTheSameKindAndKeyAreToldApartByPosition() throws {
        let old = try rules(#"rule "api" { match: true limit: { rate: 10/s, key: client_ip } limit: { rate: 1000/h, key: client_ip } }"#)
        XCTAssertEqual(FlowLimitID.identities(of: old.rules[0]).map(\.description), ["api/rate/client_ip", "api/rate/client_ip#1"])
        var state = FlowRuntimeState(rules: old, now: 0)
        drain(&state, FlowLimitID(rule: "api", kind: "rate", key: "client_ip", ordinal: 1), key: "k", times: 600)
        let swapped = try rules(#"rule "api" { match: true limit: { rate: 10/s, key: client_ip } limit: { rate: 2000/h, key: client_ip } }"#)
        let next = state.carriedOver(to: swapped, now: 0).state
        XCTAssertEqual(rateTable(next, "api/rate/client_ip#1")?.entry(at: .key("k"))?.tokens(now: 0), 400)
        XCTAssertNil(rateTable(next, "api/rate/client_ip")?.entry(at: .key("k")))
    }

    func testGlobalLimitsKeepOnlyTheirLocalFallback() throws {
        let state = FlowRuntimeState(rules: try rules("""
        rule "g" { match: true limit: { rate: 100/s, scope: global, on_store_failure: allow } }
        rule "h" { match: true limit: { rate: 100/s, scope: global, on_store_failure: local(5/s) } }
        """), now: 0)
        XCTAssertEqual(state.limiters.keys.map(\.description), ["h/global rate/rule"])
        XCTAssertEqual(rateTable(state, "h/global rate/rule")?.configuration.rate, FlowRate(count: 5, periodNanos: second))
    }

    func testClustersCarryBreakerAndWeights() throws {
        let old = try rules("""
        cluster "a" { breaker: { error_rate > 50% over 10s, min_requests: 1 } weight: dynamic(latency_p95) { decay: 0 } }
        cluster "b" { breaker: { error_rate > 50% over 10s } }
        """)
        var state = FlowRuntimeState(rules: old, now: 0)
        var breaker = try XCTUnwrap(state.breakers["a"])
        guard case .allow(let permit) = breaker.admit(now: 0).verdict else { return XCTFail("closed breaker refused") }
        XCTAssertEqual(breaker.record(permit, failure: true, now: 0), .opened)
        state.breakers["a"] = breaker
        _ = state.weights["a"]?.update([.init(endpoint: "e1", value: 1e6), .init(endpoint: "e2", value: 4e6)])

        let new = try rules("""
        cluster "a" { breaker: { error_rate > 90% over 10s, open_for: 30s } weight: dynamic(latency_p95) { base: 100, decay: 0.2 } }
        cluster "c" { weight: dynamic(error_rate) }
        """)
        let (next, report) = state.carriedOver(to: new, now: second)
        XCTAssertEqual(report, FlowCarryOverReport(kept: ["a/breaker", "a/weight"], fresh: ["c/weight"], dropped: ["b/breaker"]))
        XCTAssertEqual(next.breakers["a"]?.state, .open(until: 5 * second), "still open under the new policy")
        XCTAssertEqual(next.breakers["a"]?.policy.errorRateThreshold, 0.9)
        XCTAssertEqual(next.weights["a"]?.weight(of: "e2"), 25)
        XCTAssertEqual(next.weights["c"]?.weight(of: "e2"), 100)
    }

    func testIdenticalReloadIsANoOp() throws {
        let parsed = try rules(FlowTest.example)
        var state = FlowRuntimeState(rules: parsed, now: 0)
        drain(&state, FlowLimitID(rule: "orders-post", kind: "rate", key: "client_ip"), key: "1.2.3.4", times: 50)
        XCTAssertEqual(state.carriedOver(to: try rules(parsed.description), now: 0).state, state)
    }
}
