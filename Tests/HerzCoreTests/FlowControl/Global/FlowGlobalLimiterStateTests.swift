import XCTest
@testable import HerzCore

/// The worker's global limiter as events in, actions out: leases, store answers, failures,
/// deadlines, the store circuit, bounded waiting, reloads.
final class FlowGlobalLimiterStateTests: XCTestCase {
    private let ms = FlowTest.millisecond, second = FlowTest.second
    private let local = "{ rate: 100/s, burst: 100, key: client_ip, scope: global, on_store_failure: local(2/s) }"
    private let allow = "{ rate: 100/s, burst: 100, key: client_ip, scope: global, on_store_failure: allow }"

    private func waiting(_ result: FlowGlobalAcquire, file: StaticString = #filePath, line: UInt = #line) -> (ticket: UInt64, fetch: FlowGlobalFetch?)? {
        guard case .waiting(let ticket, let fetch) = result else {
            XCTFail("expected to wait, got \(result)", file: file, line: line)
            return nil
        }
        return (ticket, fetch)
    }

    func testAColdKeyWaitsForTheStoreThenAHotOneIsPaidFromItsLease() throws {
        var (state, limit) = try XCTUnwrap(FlowTest.globalState(local))
        let first = try XCTUnwrap(waiting(state.acquire(limit, key: "10.0.0.1", now: 0)))
        let fetch = try XCTUnwrap(first.fetch)
        XCTAssertEqual(fetch.key, "herz:flow:g\u{1F}0\u{1F}client_ip\u{1F}10.0.0.1")
        XCTAssertEqual(fetch.arguments, ["10000", "1", "1000000", "1", "1", "1001"])
        let second = try XCTUnwrap(waiting(state.acquire(limit, key: "10.0.0.1", now: 0)))
        XCTAssertNil(second.fetch, "joins the call already out for this key")
        XCTAssertEqual(state.callsInFlight, 1)
        let answered = state.fetchCompleted(fetch.id, .granted(FlowGlobalGrant(granted: 1, waitNanos: 0, left: 99)), now: ms)
        XCTAssertEqual(answered.answers, [FlowGlobalAnswer(ticket: first.ticket, decision: .admit(.store))])
        let next = try XCTUnwrap(answered.fetches.first, "the second waiter gets its own call")
        XCTAssertEqual(next.arguments[3], "2", "the batch doubled: the first grant was spent at once")
        let done = state.fetchCompleted(next.id, .granted(FlowGlobalGrant(granted: 2, waitNanos: 0, left: 97)), now: 2 * ms)
        XCTAssertEqual(done.answers, [FlowGlobalAnswer(ticket: second.ticket, decision: .admit(.store))])
        XCTAssertEqual(state.acquire(limit, key: "10.0.0.1", now: 3 * ms), .decided(.admit(.lease)))
        XCTAssertEqual(state.waitingCount, 0)
        XCTAssertEqual(state.callsInFlight, 0)
    }

    func testTheStoresRefusalIsARefusalWithItsWaitAndIsCachedForThatLong() throws {
        var (state, limit) = try XCTUnwrap(FlowTest.globalState(local))
        let asked = try XCTUnwrap(waiting(state.acquire(limit, key: "a", now: 0)))
        let actions = state.fetchCompleted(asked.fetch!.id, .granted(FlowGlobalGrant(granted: 0, waitNanos: 8 * ms, left: 0)), now: ms)
        XCTAssertEqual(actions.answers, [FlowGlobalAnswer(ticket: asked.ticket, decision: .limit(retryAfterNanos: 8 * ms, .store))])
        XCTAssertEqual(state.acquire(limit, key: "a", now: 5 * ms), .decided(.limit(retryAfterNanos: 4 * ms, .lease)))
        XCTAssertNotNil(waiting(state.acquire(limit, key: "b", now: 5 * ms))?.fetch, "other keys are not affected")
    }

    func testAFailedCallGivesEveryWaiterTheLocalFallbackBucket() throws {
        var (state, limit) = try XCTUnwrap(FlowTest.globalState(local))
        let tickets = (0..<3).compactMap { _ in waiting(state.acquire(limit, key: "a", now: 0)) }
        let actions = state.fetchCompleted(tickets[0].fetch!.id, .failed(.unavailable), now: ms)
        XCTAssertEqual(actions.answers.map(\.decision), [
            .admit(.storeFailure(.unavailable)), .admit(.storeFailure(.unavailable)),     // local(2/s): burst 2
            .limit(retryAfterNanos: 500 * ms, .storeFailure(.unavailable)),
        ])
        XCTAssertEqual(actions.answers.map(\.ticket), tickets.map(\.ticket))
        XCTAssertTrue(actions.fetches.isEmpty)
    }

    func testAllowAdmitsWhenTheStoreFails() throws {
        var (state, limit) = try XCTUnwrap(FlowTest.globalState(allow))
        let asked = try XCTUnwrap(waiting(state.acquire(limit, key: "a", now: 0)))
        XCTAssertEqual(state.fetchCompleted(asked.fetch!.id, .failed(.badReply), now: ms).answers.map(\.decision), [.admit(.storeFailure(.badReply))])
    }

    func testACallOutForTheTimeoutEndsAsTimedOutAndItsLateAnswerIsIgnored() throws {
        var (state, limit) = try XCTUnwrap(FlowTest.globalState(local))
        let first = try XCTUnwrap(waiting(state.acquire(limit, key: "a", now: 0)))
        let later = try XCTUnwrap(waiting(state.acquire(limit, key: "a", now: 3 * ms)))
        XCTAssertEqual(state.nextDeadline, 5 * ms)
        XCTAssertTrue(state.expire(now: 5 * ms - 1).isEmpty)
        XCTAssertEqual(state.expire(now: 5 * ms).answers, [
            FlowGlobalAnswer(ticket: first.ticket, decision: .admit(.storeFailure(.timeout))),
            FlowGlobalAnswer(ticket: later.ticket, decision: .admit(.storeFailure(.timeout))),
        ], "the call timed out: everyone waiting on it gets on_store_failure")
        let late = state.fetchCompleted(first.fetch!.id, .granted(FlowGlobalGrant(granted: 1, waitNanos: 0, left: 0)), now: 6 * ms)
        XCTAssertTrue(late.isEmpty, "a late answer answers nobody twice")
        XCTAssertNotNil(waiting(state.acquire(limit, key: "a", now: 9 * ms))?.fetch, "and its tokens are not used")
    }

    func testAWaiterIsAnsweredAtItsOwnDeadlineWhileALaterCallIsStillOut() throws {
        var (state, limit) = try XCTUnwrap(FlowTest.globalState(local))
        let first = try XCTUnwrap(waiting(state.acquire(limit, key: "a", now: 0)))
        let second = try XCTUnwrap(waiting(state.acquire(limit, key: "a", now: ms)))
        let served = state.fetchCompleted(first.fetch!.id, .granted(FlowGlobalGrant(granted: 1, waitNanos: 0, left: 0)), now: 2 * ms)
        XCTAssertEqual(served.answers.map(\.ticket), [first.ticket])
        let next = try XCTUnwrap(served.fetches.first, "a call for the second waiter, out until 7 ms")
        XCTAssertEqual(state.nextDeadline, 6 * ms)
        XCTAssertEqual(state.expire(now: 6 * ms).answers, [FlowGlobalAnswer(ticket: second.ticket, decision: .admit(.storeFailure(.timeout)))])
        XCTAssertEqual(state.callsInFlight, 1)
        XCTAssertTrue(state.expire(now: 7 * ms).isEmpty)
        XCTAssertEqual(state.callsInFlight, 0)
        XCTAssertTrue(state.fetchCompleted(next.id, .failed(.timeout), now: 8 * ms).isEmpty)
        XCTAssertNil(state.nextDeadline)
    }

    func testTheCircuitOpensAfterFailuresThenProbesWithOneCall() throws {
        var (state, limit) = try XCTUnwrap(FlowTest.globalState(allow))
        for key in ["a", "b", "c"] {
            let asked = try XCTUnwrap(waiting(state.acquire(limit, key: key, now: 0)))
            _ = state.fetchCompleted(asked.fetch!.id, .failed(.timeout), now: 5 * ms)
        }
        XCTAssertEqual(state.acquire(limit, key: "d", now: 6 * ms), .decided(.admit(.storeFailure(.circuitOpen))), "no call while open")
        XCTAssertEqual(state.callsInFlight, 0)
        let probe = try XCTUnwrap(waiting(state.acquire(limit, key: "e", now: 505 * ms)), "open for 500 ms, then one probe")
        XCTAssertEqual(state.acquire(limit, key: "f", now: 505 * ms), .decided(.admit(.storeFailure(.circuitOpen))), "only one probe")
        _ = state.fetchCompleted(probe.fetch!.id, .granted(FlowGlobalGrant(granted: 1, waitNanos: 0, left: 9)), now: 506 * ms)
        XCTAssertEqual(state.storeCircuit.state, .closed)
        XCTAssertNotNil(waiting(state.acquire(limit, key: "f", now: 507 * ms))?.fetch)
    }

    func testTheWaitingRoomIsBoundedAndOverflowKeysGetCallsOfTheirOwn() throws {
        var configuration = FlowGlobalConfiguration(maxWaiters: 2)
        configuration.maxKeysPerLimit = 1
        var (state, limit) = try XCTUnwrap(FlowTest.globalState(local, configuration: configuration))
        let leased = try XCTUnwrap(waiting(state.acquire(limit, key: "a", now: 0)))
        let own = try XCTUnwrap(waiting(state.acquire(limit, key: "b", now: 0)), "no room for a lease on b")
        XCTAssertEqual(own.fetch?.arguments[3], "1")
        XCTAssertEqual(state.acquire(limit, key: "c", now: 0), .decided(.admit(.storeFailure(.overloaded))))
        let answers = state.fetchCompleted(own.fetch!.id, .granted(FlowGlobalGrant(granted: 1, waitNanos: 0, left: 3)), now: ms)
        XCTAssertEqual(answers.answers, [FlowGlobalAnswer(ticket: own.ticket, decision: .admit(.store))])
        _ = state.fetchCompleted(leased.fetch!.id, .granted(FlowGlobalGrant(granted: 1, waitNanos: 0, left: 3)), now: ms)
        XCTAssertEqual(state.waitingCount, 0)
    }

    func testACancelledRequestIsNeverAnsweredAndLeavesItsTokensToTheLease() throws {
        var (state, limit) = try XCTUnwrap(FlowTest.globalState(local))
        let asked = try XCTUnwrap(waiting(state.acquire(limit, key: "a", now: 0)))
        XCTAssertTrue(state.cancel(ticket: asked.ticket))
        XCTAssertFalse(state.cancel(ticket: asked.ticket))
        XCTAssertTrue(state.fetchCompleted(asked.fetch!.id, .granted(FlowGlobalGrant(granted: 1, waitNanos: 0, left: 0)), now: ms).isEmpty)
        XCTAssertTrue(state.expire(now: second).isEmpty)
        XCTAssertEqual(state.acquire(limit, key: "a", now: ms), .decided(.admit(.lease)))
    }

    func testUnrepresentableLimitsAndOversizedCostsAreDecidedWithoutACall() throws {
        // Fine for the local bucket (ns units), too fine for the store's doubles: the checker refuses
        // it, so the model is built directly to show the run-time guard still holds.
        let spec = "{ rate: 1000/86399999us, burst: 1000000000, scope: global, on_store_failure: allow }"
        XCTAssertTrue(FlowTest.errors("rule \"g\" { match: true\n limit: \(spec) }").contains { $0.contains("smaller for a global limit") })
        let rate = FlowRate(count: 1000, periodNanos: 86_399_999_000)
        XCTAssertTrue(FlowTokenBucket.canRepresent(rate: rate, burst: 1_000_000_000))
        let location = SourceLocation(file: "rules.flow", line: 1, column: 1)
        let rules = FlowRules(rules: [FlowRule(name: "g", location: location, match: .constant(true),
                                               limits: [FlowLimit(kind: .rate(rate, burst: 1_000_000_000), key: FlowKey([]),
                                                                  scope: .global(onStoreFailure: .allow), location: location)],
                                               onLimit: .defaultAction)], clusters: [])
        var state = FlowGlobalLimiterState(rules: rules, now: 0)
        let limit = try XCTUnwrap(state.limits.first.flatMap { state.handle(for: $0.id) })
        XCTAssertEqual(state.acquire(limit, key: "", now: 0), .decided(.admit(.storeFailure(.unrepresentable))))
        var (small, handle) = try XCTUnwrap(FlowTest.globalState(allow))
        XCTAssertEqual(small.acquire(handle, key: "a", cost: 101, now: 0), .decided(.limit(retryAfterNanos: .max, .lease)))
    }

    func testReloadKeepsLeasesAndWaitersOfUnchangedLimitsAndReleasesTheOthers() throws {
        let rules = try XCTUnwrap(FlowTest.parse("""
        rule "keep" { match: true  limit: \(local) }
        rule "gone" { match: true  limit: \(allow) }
        """))
        var state = FlowGlobalLimiterState(rules: rules, now: 0)
        let keep = try XCTUnwrap(state.handle(for: FlowLimitID(rule: "keep", kind: "global rate", key: "client_ip")))
        let gone = try XCTUnwrap(state.handle(for: FlowLimitID(rule: "gone", kind: "global rate", key: "client_ip")))
        XCTAssertNil(state.handle(for: FlowLimitID(rule: "keep", kind: "rate", key: "client_ip")))
        let kept = try XCTUnwrap(waiting(state.acquire(keep, key: "a", now: 0)))
        let dropped = try XCTUnwrap(waiting(state.acquire(gone, key: "a", now: 0)))

        let next = try XCTUnwrap(FlowTest.parse(#"rule "keep" { match: path.startsWith("/v2")  limit: { rate: 50/s, key: client_ip, scope: global, on_store_failure: local(1/s) } }"#))
        let (report, actions) = state.reload(to: next, now: ms)
        XCTAssertEqual(report, FlowCarryOverReport(kept: ["keep/global rate/client_ip"], fresh: [], dropped: ["gone/global rate/client_ip"]))
        XCTAssertEqual(actions.answers, [FlowGlobalAnswer(ticket: dropped.ticket, decision: .admit(.noSuchLimit))])
        XCTAssertEqual(state.acquire(keep, key: "a", now: ms), .decided(.admit(.noSuchLimit)), "old handles resolve nothing")
        let answers = state.fetchCompleted(kept.fetch!.id, .granted(FlowGlobalGrant(granted: 1, waitNanos: 0, left: 0)), now: 2 * ms)
        XCTAssertEqual(answers.answers, [FlowGlobalAnswer(ticket: kept.ticket, decision: .admit(.store))], "its waiter survived the reload")
        XCTAssertTrue(state.fetchCompleted(dropped.fetch!.id, .failed(.timeout), now: 2 * ms).isEmpty)
        XCTAssertEqual(state.limits.first?.fallback?.configuration.rate, FlowRate(count: 1, periodNanos: second))
    }
}
