import HerzCore
import NIOCore
import XCTest

@testable import HerzHTTP

/// ``FlowGlobalLimiter`` on a real event loop against a real `redis-server`: the budget, leases,
/// and `on_store_failure` within the call timeout when the store is stopped (SIGSTOP) or killed,
/// then recovery.
final class FlowGlobalLimiterTests: XCTestCase {
    private var server: RedisServerProcess!
    /// Time an answer may take beyond the 5 ms call timeout on this shared, loaded 2-core machine.
    private let slack: UInt64 = 45_000_000

    override func setUpWithError() throws { server = try RedisServerProcess() }
    override func tearDown() { server = nil }

    /// Until the store has answered once (connect, SCRIPT LOAD and a first EVAL can take longer than
    /// 5 ms on a loaded machine), then long enough for the store circuit to forget those tries.
    private func warmUp(_ limiter: FlowGlobalLimiterHarness) throws {
        for attempt in 0..<50 {
            if try limiter.acquire("warm-\(attempt)").decision.basis == .store { break }
            usleep(100_000)
        }
        usleep(1_100_000)
    }

    func testTheBudgetIsSpentOnceAcrossLeasesThenRefused() throws {
        let limiter = try FlowGlobalLimiterHarness(limit: "{ rate: 100/h, burst: 100, scope: global, on_store_failure: allow }",
                                                   port: server.port, configuration: FlowGlobalConfiguration(callTimeoutNanos: 2_000_000_000))
        let answers = try (0..<130).map { _ in try limiter.acquire("") }
        XCTAssertEqual(answers.prefix(100).filter { $0.decision.isAdmitted }.count, 100)
        XCTAssertEqual(answers.suffix(30).filter { $0.decision.isAdmitted }.count, 0)
        XCTAssertGreaterThan(answers.filter { $0.decision == .admit(.lease) }.count, 70, "a hot key is paid from its lease")
        guard case .limit(let retry, _) = answers[100].decision else { return XCTFail("\(answers[100].decision)") }
        XCTAssertGreaterThan(retry, 30_000_000_000, "one token per 36 s")
        XCTAssertTrue(answers.suffix(29).allSatisfy { $0.decision.basis == .lease }, "refusals cached: no more calls")
    }

    func testAStoppedStoreIsAnsweredByOnStoreFailureWithinTheTimeoutThenWithoutWaiting() throws {
        let limiter = try FlowGlobalLimiterHarness(limit: "{ rate: 1000/s, key: client_ip, scope: global, on_store_failure: local(2/s) }",
                                                   port: server.port)
        try warmUp(limiter)
        server.pause()
        defer { server.resume() }
        let answers = try (0..<6).map { try limiter.acquire("10.0.0.\($0)") }
        for answer in answers {
            XCTAssertLessThan(answer.nanos, 5_000_000 + slack, "\(answer.decision) after \(answer.nanos / 1_000) µs")
        }
        XCTAssertEqual(answers.prefix(3).map(\.decision), Array(repeating: .admit(.storeFailure(.timeout)), count: 3))
        XCTAssertEqual(answers.suffix(3).map(\.decision), Array(repeating: .admit(.storeFailure(.circuitOpen)), count: 3),
                       "3 timeouts: ≥ 50% of ≥ 3 calls failed within 1 s, the circuit opens")
        XCTAssertTrue(answers.suffix(3).allSatisfy { $0.nanos < slack }, "no waiting while the circuit is open")
        let sameKey = try (0..<3).map { _ in try limiter.acquire("10.0.0.9").decision }
        XCTAssertEqual(sameKey.filter(\.isAdmitted).count, 2, "local(2/s): this worker's fallback bucket per key")

        server.resume()
        usleep(600_000)   // the circuit's open_for (500 ms), then one probe
        var answer = try limiter.acquire("after")
        for _ in 0..<20 where answer.decision != .admit(.store) {
            usleep(100_000)
            answer = try limiter.acquire("after-\(Int.random(in: 0..<1_000_000))")
        }
        XCTAssertEqual(answer.decision, .admit(.store), "the store decides again")
    }

    func testAKilledStoreFailsFastToTheFallbackAndIsUsedAgainWhenBack() throws {
        let limiter = try FlowGlobalLimiterHarness(limit: "{ rate: 1000/s, scope: global, on_store_failure: local(1/h, burst: 3) }",
                                                   port: server.port)
        try warmUp(limiter)
        XCTAssertTrue(try limiter.acquire("").decision.isAdmitted)
        server.kill()
        usleep(20_000)
        let answers = try (0..<8).map { _ in try limiter.acquire("") }
        XCTAssertTrue(answers.allSatisfy { $0.nanos < 5_000_000 + slack })
        XCTAssertEqual(answers.filter(\.decision.isAdmitted).count, 3, "local(1/h, burst: 3)")
        XCTAssertTrue(answers.allSatisfy { if case .storeFailure = $0.decision.basis { return true }; return false })
        try server.start()
        var answer = try limiter.acquire("")
        for _ in 0..<30 where answer.decision.basis != .store && answer.decision.basis != .lease {
            usleep(100_000)
            answer = try limiter.acquire("")
        }
        XCTAssertTrue(answer.decision.isAdmitted, "a fresh store has the whole budget: \(answer.decision)")
    }

    func testAFailureKnownAtOnceIsReturnedAndTheCompletionIsNeverCalled() throws {
        let nobody = try RedisServerProcess.freePort()
        let harness = try FlowGlobalLimiterHarness(limit: "{ rate: 10/s, scope: global, on_store_failure: allow }", port: nobody) {
            $0.reconnectBackoffInitial = .seconds(10)
        }
        XCTAssertEqual(try harness.acquire("a").decision, .admit(.storeFailure(.unavailable)), "connection refused")
        let limiter = harness.limiters[0], handle = harness.handle
        let (result, called) = try limiter.eventLoop.submit { () -> (FlowGlobalAcquireResult, Bool) in
            var called = false
            let result = limiter.acquire(handle, key: "b") { _ in called = true }
            return (result, called)
        }.wait()
        XCTAssertEqual(result, .decided(.admit(.storeFailure(.unavailable))), "backing off: known at once, returned")
        XCTAssertFalse(called)
    }
}
