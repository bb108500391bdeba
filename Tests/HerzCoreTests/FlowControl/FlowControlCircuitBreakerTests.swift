import XCTest
@testable import HerzCore

/// The breaker follows the diagram in FlowCircuitBreaker.swift and docs/flow-control.md.
final class FlowControlCircuitBreakerTests: XCTestCase {
    private let second = FlowTest.second
    private let policy = FlowBreakerPolicy(errorRateThreshold: 0.5, window: .seconds(10), minRequests: 4,
                                           openFor: .seconds(5), halfOpenProbes: 2)

    private func permit(_ breaker: inout FlowCircuitBreaker, now: UInt64, file: StaticString = #filePath, line: UInt = #line) -> FlowCircuitBreaker.Permit? {
        guard case .allow(let permit) = breaker.admit(now: now).verdict else {
            XCTFail("expected the breaker to admit", file: file, line: line)
            return nil
        }
        return permit
    }

    /// Closed with `failures` failures out of `total` outcomes at time `now`; returns the last transition.
    @discardableResult
    private func feed(_ breaker: inout FlowCircuitBreaker, total: Int, failures: Int, now: UInt64) -> FlowCircuitBreaker.Transition? {
        var last: FlowCircuitBreaker.Transition?
        for index in 0..<total {
            guard let permit = permit(&breaker, now: now) else { return nil }
            last = breaker.record(permit, failure: index >= total - failures, now: now) ?? last
        }
        return last
    }

    func testStaysClosedBelowMinRequestsAndAtTheThreshold() {
        var breaker = FlowCircuitBreaker(policy: policy)
        XCTAssertNil(feed(&breaker, total: 3, failures: 3, now: 0), "3 < min_requests")
        XCTAssertEqual(breaker.state, .closed)
        var atThreshold = FlowCircuitBreaker(policy: policy)
        XCTAssertNil(feed(&atThreshold, total: 4, failures: 2, now: 0), "50% is not > 50%")
        var inclusive = FlowCircuitBreaker(policy: FlowBreakerPolicy(errorRateThreshold: 0.5, inclusive: true, window: .seconds(10), minRequests: 4))
        XCTAssertEqual(feed(&inclusive, total: 4, failures: 2, now: 0), .opened, ">= trips at 50%")
    }

    func testClosedOpensThenHalfOpensThenCloses() throws {
        var breaker = FlowCircuitBreaker(policy: policy)
        XCTAssertEqual(feed(&breaker, total: 4, failures: 3, now: second), .opened)
        XCTAssertEqual(breaker.state, .open(until: 6 * second))
        XCTAssertEqual(breaker.admit(now: 2 * second).verdict, .reject(retryAfterNanos: 4 * second))
        XCTAssertNil(breaker.refresh(now: 6 * second - 1))

        let first = breaker.admit(now: 6 * second)
        XCTAssertEqual(first.transition, .halfOpened)
        guard case .allow(let probe1) = first.verdict else { return XCTFail("first probe refused") }
        XCTAssertTrue(probe1.isProbe)
        let probe2 = try XCTUnwrap(permit(&breaker, now: 6 * second))
        XCTAssertEqual(breaker.admit(now: 6 * second).verdict, .reject(retryAfterNanos: nil), "only 2 probes")
        XCTAssertEqual(breaker.state, .halfOpen(probesInFlight: 2, probesSucceeded: 0))

        XCTAssertNil(breaker.record(probe1, failure: false, now: 7 * second))
        XCTAssertEqual(breaker.admit(now: 7 * second).verdict, .reject(retryAfterNanos: nil), "a finished probe does not free a slot")
        XCTAssertEqual(breaker.record(probe2, failure: false, now: 7 * second), .closed)
        XCTAssertEqual(breaker.state, .closed)
        XCTAssertEqual(breaker.windowCounts(now: 7 * second).requests, 0, "closed starts with a fresh window")
    }

    func testProbeFailureReopens() throws {
        var breaker = FlowCircuitBreaker(policy: policy)
        feed(&breaker, total: 4, failures: 4, now: 0)
        let probe = try XCTUnwrap(permit(&breaker, now: 5 * second))
        let other = try XCTUnwrap(permit(&breaker, now: 5 * second))
        XCTAssertEqual(breaker.record(probe, failure: true, now: 6 * second), .reopened)
        XCTAssertEqual(breaker.state, .open(until: 11 * second))
        XCTAssertNil(breaker.record(other, failure: false, now: 6 * second), "the other probe belongs to the old generation")
        XCTAssertEqual(breaker.admit(now: 11 * second).transition, .halfOpened)
    }

    func testStaleOutcomesAndCancelledProbes() throws {
        var breaker = FlowCircuitBreaker(policy: policy)
        let slow = try XCTUnwrap(permit(&breaker, now: 0))
        feed(&breaker, total: 4, failures: 4, now: 0)
        XCTAssertNil(breaker.record(slow, failure: false, now: second), "admitted before opening: ignored while open")
        let probe = try XCTUnwrap(permit(&breaker, now: 5 * second))
        XCTAssertNil(breaker.record(slow, failure: true, now: 5 * second), "and ignored in half-open")
        breaker.cancel(probe)
        breaker.cancel(probe)
        XCTAssertEqual(breaker.state, .halfOpen(probesInFlight: 0, probesSucceeded: 0), "cancel frees the slot once, never below zero")
        XCTAssertNotNil(permit(&breaker, now: 5 * second))
    }

    func testOldFailuresLeaveTheWindow() {
        var breaker = FlowCircuitBreaker(policy: policy)
        feed(&breaker, total: 3, failures: 3, now: 0)
        XCTAssertNil(feed(&breaker, total: 1, failures: 1, now: 10 * second), "the first three failures are 10 s old")
        XCTAssertEqual(breaker.state, .closed)
    }

    /// Random events: every transition is an edge of the diagram, from the state it names, and
    /// half-open never has more than `half_open_probes` probes out.
    func testRandomEventsFollowTheDiagram() {
        var random = SplitMix64(seed: 0xB4EA)
        var breaker = FlowCircuitBreaker(policy: policy)
        var permits: [FlowCircuitBreaker.Permit] = []
        var now: UInt64 = 0
        var seen: Set<String> = []
        for _ in 0..<20_000 {
            now += random.next(below: second / 2)
            let before = breaker.state
            let transition: FlowCircuitBreaker.Transition?
            switch random.next(below: 3) {
            case 0:
                let result = breaker.admit(now: now)
                transition = result.transition
                if case .allow(let permit) = result.verdict { permits.append(permit) }
            case 1 where !permits.isEmpty:
                let permit = permits.remove(at: Int(random.next(below: UInt64(permits.count))))
                transition = breaker.record(permit, failure: random.next(below: 3) != 0, now: now)
            default:
                if !permits.isEmpty { breaker.cancel(permits.removeLast()) }
                transition = nil
            }
            if let transition {
                seen.insert("\(transition)")
                switch (transition, before, breaker.state) {
                case (.opened, .closed, .open), (.halfOpened, .open, .halfOpen), (.closed, .halfOpen, .closed), (.reopened, .halfOpen, .open): break
                default: XCTFail("\(transition) from \(before) to \(breaker.state) is not an edge of the diagram")
                }
            } else {
                XCTAssertEqual(Self.name(before), Self.name(breaker.state), "state changed without a transition")
            }
            if case .halfOpen(let inFlight, let succeeded) = breaker.state {
                XCTAssertLessThanOrEqual(inFlight + succeeded, policy.halfOpenProbes)
                XCTAssertGreaterThanOrEqual(inFlight, 0)
            }
        }
        XCTAssertEqual(seen, ["opened", "halfOpened", "closed", "reopened"], "every edge was exercised")
    }

    private static func name(_ state: FlowCircuitBreaker.State) -> String {
        switch state {
        case .closed: return "closed"
        case .open: return "open"
        case .halfOpen: return "halfOpen"
        }
    }
}
