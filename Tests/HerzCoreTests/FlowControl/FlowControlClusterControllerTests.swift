import NIOCore
import XCTest
@testable import HerzCore

/// The cluster layer's glue (FlowClusterController): weights from measurements with ejection held,
/// the breaker driven by a fake clock, counters, reload carry-over.
final class FlowControlClusterControllerTests: XCTestCase {
    private let second = FlowTest.second
    private let ms = FlowTest.millisecond
    private let here = SourceLocation(file: "rules.flow", line: 1, column: 1)
    private typealias Reading = FlowClusterController.EndpointReading

    private func cluster(weight: FlowWeightPolicy? = nil, breaker: FlowBreakerPolicy? = nil) -> FlowCluster {
        FlowCluster(name: "backend", location: here, weight: weight, breaker: breaker)
    }

    private func latency(_ endpoint: String, _ p95: UInt64?, excluded: Bool = false) -> Reading {
        Reading(endpoint: endpoint, p95Nanos: p95, requests: p95 == nil ? 0 : 50, failures: 0, excluded: excluded)
    }

    // MARK: weights

    func testSlowEndpointLosesWeightGeometricallyAndRegainsIt() {
        var c = FlowClusterController(cluster: cluster(weight: FlowWeightPolicy(signal: .latencyP95, base: 80, decay: 0.5, minimum: 5)))
        XCTAssertEqual(c.updateWeights([latency("fast", 2 * ms), latency("slow", 200 * ms)]), ["slow"])
        XCTAssertEqual(c.weights, ["fast": 80, "slow": 40])               // 0.5·80 + 0.5·0.8 = 40.4
        c.updateWeights([latency("fast", 2 * ms), latency("slow", 200 * ms)])
        c.updateWeights([latency("fast", 2 * ms), latency("slow", 200 * ms)])
        XCTAssertEqual(c.weights["slow"], 11)
        for _ in 0..<10 { c.updateWeights([latency("fast", 2 * ms), latency("slow", 200 * ms)]) }
        XCTAssertEqual(c.weights["slow"], 5)                                // the floor: min
        XCTAssertEqual(c.weightChanges, 5)                                  // 40, 21, 11, 6, 5 — then steady
        // Recovered: the smoothed value (≈ 0.8, under the floor) climbs half the gap per update.
        for _ in 0..<3 { c.updateWeights([latency("fast", 2 * ms), latency("slow", 2 * ms)]) }
        XCTAssertEqual(c.weights["slow"], 70)                               // 40.4 → 60.2 → 70.1
    }

    func testEjectedEndpointKeepsItsWeightAndDoesNotSetTheBestLatency() {
        var c = FlowClusterController(cluster: cluster(weight: FlowWeightPolicy(signal: .latencyP95, base: 100, decay: 0, minimum: 1)))
        c.updateWeights([latency("a", 10 * ms), latency("b", 20 * ms), latency("c", 40 * ms)])
        XCTAssertEqual(c.weights, ["a": 100, "b": 50, "c": 25])
        // a is ejected: its (stale, best) measurement no longer sets the scale, its weight is held.
        c.updateWeights([latency("a", 10 * ms, excluded: true), latency("b", 20 * ms), latency("c", 40 * ms)])
        XCTAssertEqual(c.weights, ["a": 100, "b": 100, "c": 50])
        // Even with no measurement (no traffic while ejected) or a terrible one, it stays as it was.
        c.updateWeights([latency("a", nil, excluded: true), latency("b", 20 * ms), latency("c", 40 * ms)])
        c.updateWeights([latency("a", 5_000 * ms, excluded: true), latency("b", 20 * ms), latency("c", 40 * ms)])
        XCTAssertEqual(c.weights["a"], 100)
        // A slow endpoint ejected keeps its low weight and re-enters with it.
        var d = FlowClusterController(cluster: cluster(weight: FlowWeightPolicy(signal: .latencyP95, base: 100, decay: 0.5, minimum: 1)))
        for _ in 0..<8 { d.updateWeights([latency("fast", ms), latency("slow", 100 * ms)]) }
        let low = d.weights["slow"]!
        XCTAssertLessThanOrEqual(low, 2)
        for _ in 0..<5 { d.updateWeights([latency("fast", ms), latency("slow", nil, excluded: true)]) }
        XCTAssertEqual(d.weights["slow"], low)
        d.updateWeights([latency("fast", ms), latency("slow", ms)])        // back, and fast: climbs from `low`
        XCTAssertEqual(d.weights["slow"], 51)                               // 0.5·1.4 + 0.5·100
    }

    func testErrorRateSignalShiftsAwayFromFailingEndpoint() {
        var c = FlowClusterController(cluster: cluster(weight: FlowWeightPolicy(signal: .errorRate, base: 100, decay: 0, minimum: 2)))
        c.updateWeights([Reading(endpoint: "ok", p95Nanos: ms, requests: 100, failures: 0, excluded: false),
                         Reading(endpoint: "bad", p95Nanos: ms, requests: 100, failures: 60, excluded: false),
                         Reading(endpoint: "idle", p95Nanos: nil, requests: 0, failures: 0, excluded: false)])
        XCTAssertEqual(c.weights, ["ok": 100, "bad": 2, "idle": 100])       // 100·0.01/0.61 = 1.6 → min 2
    }

    func testNoWeightPolicyLeavesWeightsEmpty() {
        var c = FlowClusterController(cluster: cluster(breaker: FlowBreakerPolicy(errorRateThreshold: 0.5, window: .seconds(10))))
        XCTAssertEqual(c.updateWeights([latency("a", ms)]), [])
        XCTAssertTrue(c.weights.isEmpty)
    }

    // MARK: breaker

    private let breakerPolicy = FlowBreakerPolicy(errorRateThreshold: 0.5, window: .seconds(10), minRequests: 4,
                                                  openFor: .seconds(5), halfOpenProbes: 2)

    private func allow(_ c: inout FlowClusterController, now: UInt64, file: StaticString = #filePath, line: UInt = #line) -> FlowCircuitBreaker.Permit? {
        guard case .allow(let permit) = c.admit(now: now).admission else {
            XCTFail("expected admission", file: file, line: line)
            return nil
        }
        return permit
    }

    func testWithoutBreakerEverythingIsAdmittedWithoutPermit() {
        var c = FlowClusterController(cluster: cluster(weight: FlowWeightPolicy(signal: .latencyP95)))
        XCTAssertEqual(c.admit(now: 0).admission, .allow(nil))
        XCTAssertNil(c.record(nil, failure: true, now: 1))
        XCTAssertEqual(c.phase, .closed)
    }

    func testBreakerOpensHalfOpensClosesAndReopensOnAFakeClock() {
        var c = FlowClusterController(cluster: cluster(breaker: breakerPolicy))
        var t: UInt64 = 100 * second
        // 3 failures out of 3: below min_requests, stays closed.
        for _ in 0..<3 { XCTAssertNil(c.record(allow(&c, now: t), failure: true, now: t)) }
        let success = allow(&c, now: t)
        XCTAssertNil(c.record(success, failure: false, now: t))            // 3/4 failed, but a success never trips
        let event = c.record(allow(&c, now: t), failure: true, now: t)     // 4/5 = 80% > 50% with ≥ 4
        XCTAssertEqual(event, .init(from: .closed, to: .open, requests: 5, failures: 4))
        XCTAssertEqual(c.phase, .open)
        // Open: refused with the time left, counted.
        t += 2 * second
        XCTAssertEqual(c.admit(now: t).admission, .reject(phase: .open, retryAfterNanos: 3 * second))
        XCTAssertEqual(c.rejections, 1)
        // After open_for: the tick's refresh half-opens; two probes pass, the third is refused.
        t += 3 * second
        XCTAssertEqual(c.refresh(now: t)?.to, .halfOpen)
        let p1 = allow(&c, now: t), p2 = allow(&c, now: t)
        XCTAssertEqual(p1?.isProbe, true)
        XCTAssertEqual(c.admit(now: t).admission, .reject(phase: .halfOpen, retryAfterNanos: nil))
        // A failing probe reopens; the other probe's late answer is ignored (stale generation).
        XCTAssertEqual(c.record(p1, failure: true, now: t)?.to, .open)
        XCTAssertNil(c.record(p2, failure: false, now: t))
        XCTAssertEqual(c.phase, .open)
        // Half-open again (this time through an admission), both probes succeed: closed.
        t += 5 * second
        let (admission, halfOpened) = c.admit(now: t)
        XCTAssertEqual(halfOpened?.to, .halfOpen)
        guard case .allow(let q1) = admission else { return XCTFail("probe refused") }
        let q2 = allow(&c, now: t)
        XCTAssertNil(c.record(q1, failure: false, now: t))
        XCTAssertEqual(c.record(q2, failure: false, now: t)?.to, .closed)
        XCTAssertEqual(c.transitions, [.init(from: .closed, to: .open): 1, .init(from: .open, to: .halfOpen): 2,
                                       .init(from: .halfOpen, to: .open): 1, .init(from: .halfOpen, to: .closed): 1])
        XCTAssertEqual(c.rejections, 2)
    }

    /// Property: over random attempts, outcomes, cancels and ticks, every counted transition is an
    /// edge of the diagram, each event's `from` is the phase before it, and half-open never has
    /// more than `half_open_probes` permits out.
    func testRandomWalkOnlyTakesEdgesOfTheDiagram() {
        var random = SplitMix64(seed: 99)
        var c = FlowClusterController(cluster: cluster(breaker: FlowBreakerPolicy(errorRateThreshold: 0.3, window: .seconds(2),
                                                                                  minRequests: 3, openFor: .milliseconds(500),
                                                                                  halfOpenProbes: 2)))
        var t: UInt64 = 0
        var out: [FlowCircuitBreaker.Permit] = []
        for _ in 0..<20_000 {
            t += random.next(below: 60 * ms)
            let before = c.phase
            var event: FlowClusterController.BreakerEvent?
            switch random.next(below: 4) {
            case 0, 1:
                let (admission, e) = c.admit(now: t)
                event = e
                if case .allow(let permit?) = admission { out.append(permit) }
            case 2 where !out.isEmpty:
                let permit = out.remove(at: Int(random.next(below: UInt64(out.count))))
                event = c.record(permit, failure: random.next(below: 2) == 0, now: t)
            case 3 where !out.isEmpty:
                c.cancel(out.removeLast())
            default:
                event = c.refresh(now: t)
            }
            if let event {
                XCTAssertEqual(event.from, before)
                XCTAssertEqual(event.to, c.phase)
                XCTAssertTrue(FlowClusterController.Transition.edges.contains(.init(from: event.from, to: event.to)), "\(event)")
            }
            if case .halfOpen(let inFlight, let succeeded)? = c.state.breaker?.state {
                XCTAssertLessThanOrEqual(inFlight + succeeded, 2)
            }
        }
        XCTAssertTrue(Set(c.transitions.keys).isSubset(of: Set(FlowClusterController.Transition.edges)))
        XCTAssertEqual(c.transitions.count, 4, "the walk should visit every edge: \(c.transitions)")
    }

    func testCancelledProbeFreesItsSlot() {
        var c = FlowClusterController(cluster: cluster(breaker: FlowBreakerPolicy(errorRateThreshold: 0, window: .seconds(1),
                                                                                  minRequests: 1, openFor: .seconds(1), halfOpenProbes: 1)))
        XCTAssertEqual(c.record(allow(&c, now: 0), failure: true, now: 0)?.to, .open)
        let probe = allow(&c, now: second)
        XCTAssertEqual(c.admit(now: second).admission, .reject(phase: .halfOpen, retryAfterNanos: nil))
        c.cancel(probe)
        XCTAssertNotNil(allow(&c, now: second))
    }

    // MARK: reload

    func testReloadKeepsOpenBreakerAndWeightsOfTheSameSignal() {
        var c = FlowClusterController(cluster: cluster(weight: FlowWeightPolicy(signal: .latencyP95, base: 100, decay: 0, minimum: 1),
                                                       breaker: FlowBreakerPolicy(errorRateThreshold: 0, window: .seconds(1), minRequests: 1,
                                                                                  openFor: .seconds(30))))
        XCTAssertEqual(c.record(allow(&c, now: 0), failure: true, now: 0)?.to, .open)
        c.updateWeights([latency("a", ms), latency("b", 4 * ms)])
        // New thresholds and base, same signal: still open, weights kept, counters kept.
        let (same, notes) = c.reconfigured(to: cluster(weight: FlowWeightPolicy(signal: .latencyP95, base: 100, decay: 0.2, minimum: 1),
                                                       breaker: FlowBreakerPolicy(errorRateThreshold: 0.9, window: .seconds(5))))
        XCTAssertEqual(notes.kept, ["backend/breaker", "backend/weight"])
        XCTAssertEqual(same.phase, .open)
        XCTAssertEqual(same.weights, ["a": 100, "b": 25])
        XCTAssertEqual(same.transitions[.init(from: .closed, to: .open)], 1)
        var open = same
        XCTAssertEqual(open.admit(now: second).admission, .reject(phase: .open, retryAfterNanos: 29 * second))
        // Another signal resets the weights to base; dropping the breaker admits everything.
        let (other, otherNotes) = c.reconfigured(to: cluster(weight: FlowWeightPolicy(signal: .errorRate, base: 50)))
        XCTAssertEqual(otherNotes.fresh, ["backend/weight"])
        XCTAssertEqual(other.weights, ["a": 50, "b": 50])
        var closed = other
        XCTAssertEqual(closed.admit(now: second).admission, .allow(nil))
    }

    func testBreakerReplyNamesTheStateAndRetryAfter() {
        let open = FlowBreakerReply(cluster: "backend", phase: .open, retryAfterNanos: 2_100 * ms)
        XCTAssertEqual(open.headers.map { "\($0.0): \($0.1)" }, ["x-herz-breaker: open", "retry-after: 3"])
        XCTAssertEqual(open.body, "cluster backend: circuit breaker open\n")
        let half = FlowBreakerReply(cluster: "backend", phase: .halfOpen, retryAfterNanos: nil)
        XCTAssertEqual(half.headers.map { "\($0.0): \($0.1)" }, ["x-herz-breaker: half_open"])
    }
}
