import XCTest
@testable import HerzCore

/// The `flow_control` filter's decision, without sockets or clocks: all-or-nothing draws across
/// rules, shadow, delay (reserved tokens, waiting for a slot), global asks, reload.
final class FlowControlAdmissionTests: XCTestCase {
    private let second = FlowTest.second
    private let ms = FlowTest.millisecond

    private func program(_ source: String, generation: UInt64 = 1, previous: FlowProgram? = nil) throws -> FlowProgram {
        FlowProgram(rules: try XCTUnwrap(FlowTest.parse(source)), generation: generation, previous: previous)
    }

    private func match(_ program: FlowProgram, _ request: FlowRequestValues) -> FlowMatch {
        var match = FlowMatch()
        program.match(request, into: &match)
        return match
    }

    private func grant(_ admission: FlowAdmission, file: StaticString = #filePath, line: UInt = #line) -> FlowGrant? {
        guard case .proceed(let grant) = admission else {
            XCTFail("expected proceed, got \(admission)", file: file, line: line)
            return nil
        }
        return grant
    }

    private func tokens(_ state: FlowAdmissionState, limit: Int, key: String = "", now: UInt64) -> Double? {
        guard case .rate(let table)? = state.limiter(limit) else { return nil }
        return table.entry(at: .key(key))?.tokens(now: now)
    }

    private func inFlight(_ state: FlowAdmissionState, limit: Int, key: String = "") -> Int? {
        guard case .concurrency(let table)? = state.limiter(limit) else { return nil }
        return table.entry(at: .key(key))?.inFlight
    }

    func testALaterRuleRefusingGivesBackWhatEarlierRulesTook() throws {
        let p = try program("""
        rule "a" { match: path.startsWith("/") limit: { rate: 1/h, burst: 5 } }
        rule "b" { match: path.startsWith("/x") limit: { concurrency: 1 } on_limit: reject(503, retry_after: 7s) }
        """)
        var state = FlowAdmissionState(program: p, now: 0)
        let request = match(p, FlowRequestValues(target: "/x"))
        XCTAssertEqual(request.rules, [0, 1])
        let first = try XCTUnwrap(grant(state.admit(request, program: p, startedAt: 0, now: 0)))
        XCTAssertEqual(first.hold.permits.map(\.kind), [.token, .slot])
        XCTAssertEqual(tokens(state, limit: 0, now: 0), 4)
        guard case .reject(let rule, let status, let retryAfter) = state.admit(request, program: p, startedAt: 0, now: 0) else {
            return XCTFail("second request must be refused by b")
        }
        XCTAssertEqual([rule, status, retryAfter], [1, 503, 7])
        XCTAssertEqual(tokens(state, limit: 0, now: 0), 4, "a's token of the refused request came back")
        XCTAssertEqual(inFlight(state, limit: 1), 1)
        XCTAssertEqual(state.giveBack(first.hold.slots, now: 0), [])
        XCTAssertEqual(inFlight(state, limit: 1), 0)
        XCTAssertEqual(state.giveBack(first.hold.slots, now: 0), [], "a second release changes nothing")
        XCTAssertEqual(inFlight(state, limit: 1), 0, "never negative")
        XCTAssertEqual(tokens(state, limit: 0, now: 0), 4, "releasing slots does not refund spent tokens")
    }

    func testARuleRefusingOnItsSecondLimitGivesBackItsFirst() throws {
        let p = try program(#"rule "r" { match: true limit: { rate: 1/h, burst: 3 } limit: { concurrency: 1 } }"#)
        var state = FlowAdmissionState(program: p, now: 0)
        let request = match(p, FlowRequestValues())
        let held = try XCTUnwrap(grant(state.admit(request, program: p, startedAt: 0, now: 0)))
        guard case .reject(0, 429, 1?) = state.admit(request, program: p, startedAt: 0, now: 0) else { return XCTFail() }
        XCTAssertEqual(tokens(state, limit: 0, now: 0), 2)
        _ = state.giveBack(held.hold.slots, now: 0)
        XCTAssertNotNil(grant(state.admit(request, program: p, startedAt: 0, now: 0)))
        XCTAssertEqual(tokens(state, limit: 0, now: 0), 1)
    }

    func testShadowRulesCountButNeverRefuse() throws {
        let p = try program("""
        rule "try" { match: true limit: { rate: 1/h, burst: 2 } limit: { rate: 1/h, burst: 1, key: header["x-u"] } on_limit: shadow }
        rule "real" { match: true limit: { rate: 1/h, burst: 100 } }
        """)
        var state = FlowAdmissionState(program: p, now: 0)
        let request = match(p, FlowRequestValues(headers: [("x-u", "u1")]))
        XCTAssertEqual(grant(state.admit(request, program: p, startedAt: 0, now: 0))?.shadowedRules, [])
        let second = try XCTUnwrap(grant(state.admit(request, program: p, startedAt: 0, now: 0)))
        XCTAssertEqual(second.shadowedRules, [0])
        XCTAssertEqual(second.hold.permits.map(\.limit), [2], "the shadow rule's own first draw was given back")
        XCTAssertEqual(tokens(state, limit: 0, now: 0), 1)
        XCTAssertEqual(tokens(state, limit: 2, now: 0), 98)
    }

    func testDelayReservesTokensUpToMaxThenRejects() throws {
        let p = try program(#"rule "d" { match: true limit: { rate: 10/s, burst: 1 } on_limit: delay(max: 250ms) }"#)
        var state = FlowAdmissionState(program: p, now: 0)
        let request = match(p, FlowRequestValues())
        var delays: [UInt64] = []
        for _ in 0..<3 {
            let granted = try XCTUnwrap(grant(state.admit(request, program: p, startedAt: 0, now: 0)))
            delays.append(granted.delayNanos)
            XCTAssertEqual(granted.delayedRules, granted.delayNanos > 0 ? [0] : [])
        }
        XCTAssertEqual(delays, [0, 100 * ms, 200 * ms])
        guard case .reject(0, 429, let retryAfter) = state.admit(request, program: p, startedAt: 0, now: 0) else {
            return XCTFail("a wait of 300ms is over the 250ms max")
        }
        XCTAssertEqual(retryAfter, 1)
        // At 200ms a request that started at 100ms has 150ms left of its max: a 100ms wait fits, 200ms not.
        XCTAssertEqual(grant(state.admit(request, program: p, startedAt: 100 * ms, now: 200 * ms))?.delayNanos, 100 * ms)
        guard case .reject = state.admit(request, program: p, startedAt: 100 * ms, now: 200 * ms) else { return XCTFail() }
    }

    func testDelayOnAFullConcurrencyLimitWaitsForARelease() throws {
        let p = try program(#"rule "c" { match: true limit: { concurrency: 1, key: header["t"] } on_limit: delay(max: 1s) }"#)
        var state = FlowAdmissionState(program: p, now: 0, maxWaiters: 2)
        let a = match(p, FlowRequestValues(headers: [("t", "a")])), b = match(p, FlowRequestValues(headers: [("t", "b")]))
        let first = try XCTUnwrap(grant(state.admit(a, program: p, startedAt: 0, now: 0)))
        guard case .wait(0, let w1, let deadline) = state.admit(a, program: p, startedAt: 0, now: 0) else { return XCTFail() }
        XCTAssertEqual(deadline, second)
        guard case .wait(0, let w2, _) = state.admit(a, program: p, startedAt: 10, now: 10) else { return XCTFail() }
        guard case .reject(0, 429, _) = state.admit(a, program: p, startedAt: 0, now: 0) else { return XCTFail("waiters are bounded") }
        XCTAssertNotNil(grant(state.admit(b, program: p, startedAt: 0, now: 0)), "another key is not affected")
        XCTAssertEqual(state.waiterCount, 2)
        XCTAssertEqual(state.giveBack(first.hold.slots, now: 5), [w1], "one released slot wakes the first waiter of that key")
        XCTAssertEqual(state.waiterCount, 1)
        XCTAssertFalse(state.cancelWaiter(w1), "woken: no longer waiting")
        XCTAssertNotNil(grant(state.admit(a, program: p, startedAt: 0, now: 5)))
        XCTAssertTrue(state.cancelWaiter(w2))
        XCTAssertEqual(state.waiterCount, 0)
        guard case .reject = state.admit(a, program: p, startedAt: 0, now: second) else { return XCTFail("past its deadline it is refused") }
    }

    func testAWokenWaiterThatLeavesPassesTheWakeOn() throws {
        let p = try program(#"rule "c" { match: true limit: { concurrency: 1 } on_limit: delay(max: 1s) }"#)
        var state = FlowAdmissionState(program: p, now: 0)
        let request = match(p, FlowRequestValues())
        let held = try XCTUnwrap(grant(state.admit(request, program: p, startedAt: 0, now: 0)))
        guard case .wait(_, let w1, _) = state.admit(request, program: p, startedAt: 0, now: 0),
              case .wait(_, let w2, _) = state.admit(request, program: p, startedAt: 0, now: 0) else { return XCTFail() }
        let ticket = try XCTUnwrap(state.waitTicket(of: w1))
        XCTAssertEqual(state.giveBack(held.hold.slots, now: 1), [w1])
        XCTAssertEqual(state.passOnWake(of: ticket), w2)
        XCTAssertNil(state.passOnWake(of: ticket))
    }

    func testGlobalLimitsAreAskedLastInRuleOrder() throws {
        let p = try program("""
        rule "g1" { match: true limit: { rate: 100/s, scope: global, on_store_failure: allow } limit: { concurrency: 5 } }
        rule "g2" { match: true limit: { rate: 50/s, key: header["t"], scope: global, on_store_failure: local(5/s) } }
        """)
        var state = FlowAdmissionState(program: p, now: 0)
        let granted = try XCTUnwrap(grant(state.admit(match(p, FlowRequestValues(headers: [("t", "x")])), program: p, startedAt: 0, now: 0)))
        XCTAssertEqual(granted.globals.map(\.rule), [0, 1])
        XCTAssertEqual(granted.globals.map(\.id.description), ["g1/global rate/rule", "g2/global rate/header[\"t\"]"])
        XCTAssertEqual(granted.globals.map(\.key), ["", "x"])
        XCTAssertEqual(granted.hold.permits.map(\.kind), [.slot], "only the local concurrency limit is drawn here")
    }

    func testAStaleProgramIsRefusedAndReloadCarriesDrainedBuckets() throws {
        let source = #"rule "api" { match: path.startsWith("/api") limit: { rate: 1/h, burst: 3, key: client_ip } limit: { concurrency: 2 } }"#
        let old = try program(source)
        var state = FlowAdmissionState(program: old, now: 0)
        let request = FlowRequestValues(target: "/api/x", clientIP: "10.0.0.1")
        var held: [FlowHold] = []
        for _ in 0..<2 { held.append(try XCTUnwrap(grant(state.admit(match(old, request), program: old, startedAt: 0, now: 0))).hold.slots) }
        XCTAssertEqual(tokens(state, limit: 0, key: "10.0.0.1", now: 0), 1)

        let new = try program(#"rule "first" { match: method == "PUT" limit: { rate: 5/s } }"# + "\n" + source, generation: 2, previous: old)
        let (report, woken) = state.reload(to: new, now: 0)
        XCTAssertEqual(report.kept, ["api/concurrency/rule", "api/rate/client_ip"])
        XCTAssertEqual(report.fresh, ["first/rate/rule"])
        XCTAssertEqual(woken, [])
        guard case .stale = state.admit(match(old, request), program: old, startedAt: 0, now: 0) else { return XCTFail() }
        XCTAssertEqual(tokens(state, limit: 1, key: "10.0.0.1", now: 0), 1, "the drained bucket is still drained")
        XCTAssertEqual(inFlight(state, limit: 2), 2)
        guard case .reject = state.admit(match(new, request), program: new, startedAt: 0, now: 0) else { return XCTFail("still 2 in flight") }
        _ = state.giveBack(held[0], now: 0)   // taken under the old program: released to the same limit in the new one
        XCTAssertEqual(inFlight(state, limit: 2), 1)
        XCTAssertNotNil(grant(state.admit(match(new, request), program: new, startedAt: 0, now: 0)))
        XCTAssertEqual(tokens(state, limit: 1, key: "10.0.0.1", now: 0), 0)
        XCTAssertTrue(new.counters[1] === old.counters[0], "counters follow the rule's name")
    }

    func testReloadWakesEveryWaiter() throws {
        let p = try program(#"rule "c" { match: true limit: { concurrency: 1 } on_limit: delay(max: 1s) }"#)
        var state = FlowAdmissionState(program: p, now: 0)
        let request = match(p, FlowRequestValues())
        _ = state.admit(request, program: p, startedAt: 0, now: 0)
        guard case .wait(_, let waiter, _) = state.admit(request, program: p, startedAt: 0, now: 0) else { return XCTFail() }
        let (_, woken) = state.reload(to: try program(#"rule "c" { match: true limit: { concurrency: 2 } on_limit: delay(max: 1s) }"#,
                                                   generation: 2, previous: p), now: 0)
        XCTAssertEqual(woken, [waiter])
        XCTAssertEqual(state.waiterCount, 0)
    }

    func testTokenRefundNeverExceedsBurst() {
        var bucket = FlowTokenBucket(rate: FlowRate(count: 1, periodNanos: second), burst: 2, now: 0)
        bucket.refund(now: 0)
        XCTAssertEqual(bucket.tokens(now: 0), 2)
        _ = bucket.acquire(now: 0)
        _ = bucket.acquire(now: 0)
        XCTAssertEqual(bucket.acquire(now: 0, maxDelayNanos: second), .admitAfter(nanos: second))
        bucket.refund(now: 0)
        XCTAssertEqual(bucket.tokens(now: 0), 0, "a refund first pays back the reservation's debt")
    }

    func testQueryParameterLookupDecodesLikeTheMap() {
        let query = "a=1&b=x%20y&c&d+e=f+g&a=2"
        XCTAssertEqual(FlowQueryString.first("a", in: query), "1")
        XCTAssertEqual(FlowQueryString.first("b", in: query), "x y")
        XCTAssertEqual(FlowQueryString.first("c", in: query), "")
        XCTAssertEqual(FlowQueryString.first("d e", in: query), "f g")
        XCTAssertNil(FlowQueryString.first("z", in: query))
        for name in ["a", "b", "c", "d e", "z"] {
            XCTAssertEqual(FlowQueryString.first(name, in: query), FlowQueryString.parameters(query)[name])
        }
    }
}
