import Dispatch
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest
@testable import HerzCore
@testable import HerzHTTP

/// The real `flow_control` filter and engine on a real event loop, driven through the filter
/// manager: slots released exactly once however the stream ends, delays held on timers, waiters
/// woken by releases and refused at their deadline.
final class FlowControlFilterTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var loop: EventLoop { group.next() }

    override func setUp() { group = MultiThreadedEventLoopGroup(numberOfThreads: 1) }
    override func tearDown() { try? group.syncShutdownGracefully() }

    final class Sink: FilterManagerSink {
        var actions: [FilterManagerAction] = []
        func filterManager(_ manager: FilterManager, perform action: FilterManagerAction) { actions.append(action) }

        var forwarded: Bool { actions.contains { if case .forwardRequestHead = $0 { true } else { false } } }
        var status: Int? {
            for case .sendResponseHead(let head, _) in actions { return Int(head.status.code) }
            return nil
        }
        var responseHead: HTTPResponseHead? {
            for case .sendResponseHead(let head, _) in actions { return head }
            return nil
        }
    }

    /// One stream; every method runs on the loop.
    final class Stream {
        let manager: FilterManager
        let sink = Sink()

        init(engine: FlowControlEngine, path: String) {
            let info = StreamInfo(listenerName: "l", clientAddress: "10.0.0.1", scheme: "http", requestID: "1")
            let filter = FlowControlFilterFactory(config: FlowControlFilterConfig(), engine: engine).makeFilter(streamInfo: info)
            manager = FilterManager(filters: [filter], streamInfo: info, bufferLimit: 1024, sink: sink)
            manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: .GET, uri: path), endStream: true)
        }

        func complete() { manager.encodeHeaders(HTTPResponseHead(version: .http1_1, status: .ok), endStream: true) }
    }

    private func engine(_ source: String) throws -> FlowControlEngine {
        let rules = try FlowRules.parse(source: source, file: "rules.flow")
        return FlowControlEngine(program: FlowProgram(rules: rules, generation: 1))
    }

    private func onLoop<T>(_ body: @escaping () -> T) throws -> T {
        try loop.submit(body).wait()
    }

    private func start(_ engine: FlowControlEngine, _ path: String = "/") throws -> Stream {
        try onLoop { Stream(engine: engine, path: path) }
    }

    /// Polls `condition` on the loop for up to `seconds`.
    private func eventually(_ seconds: Double = 3, _ condition: @escaping () -> Bool) throws -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            if try onLoop(condition) { return true }
            usleep(5_000)
        }
        return false
    }

    private func inFlight(_ engine: FlowControlEngine) -> Int {
        engine.withState { state -> Int in
            guard case .concurrency(let table)? = state.limiter(0) else { return -1 }
            return table.entry(at: .key(""))?.inFlight ?? 0
        }
    }

    func testSlotsAreReleasedExactlyOnceOnCompletionResetAndLocalReply() throws {
        let engine = try engine(#"rule "c" { match: true limit: { concurrency: 1 } on_limit: reject(503, retry_after: 4s) }"#)
        let first = try start(engine)
        XCTAssertTrue(try onLoop { first.sink.forwarded })
        let refused = try start(engine)
        let head = try XCTUnwrap(try onLoop { refused.sink.responseHead })
        XCTAssertEqual(head.status.code, 503)
        XCTAssertEqual(head.headers["retry-after"], ["4"])
        XCTAssertEqual(head.headers["x-herz-flow-rule"], ["c"])
        XCTAssertEqual(inFlight(engine), 1, "a refused request holds nothing")

        try onLoop { first.complete() }
        XCTAssertEqual(inFlight(engine), 0)
        let second = try start(engine)
        XCTAssertTrue(try onLoop { second.sink.forwarded })
        try onLoop { second.manager.resetStream(.peerReset) }
        XCTAssertEqual(inFlight(engine), 0)
        let third = try start(engine)
        XCTAssertTrue(try onLoop { third.sink.forwarded })
        try onLoop { third.manager.sendLocalReply(status: .badGateway, body: "later filter", headers: HTTPHeaders()) }
        XCTAssertEqual(inFlight(engine), 0)

        let fourth = try start(engine)
        XCTAssertTrue(try onLoop { fourth.sink.forwarded })
        try onLoop {
            // Every way of ending the streams again: nothing is released twice.
            for stream in [first, second, third] {
                stream.complete()
                stream.manager.resetStream(.peerReset)
            }
        }
        XCTAssertEqual(inFlight(engine), 1)
        XCTAssertEqual(engine.program.counters[0].count(.allowed), 4)
        XCTAssertEqual(engine.program.counters[0].count(.limited), 1)
    }

    func testDelayHoldsTheRequestOnATimerThenLetsItThrough() throws {
        let engine = try engine(#"rule "d" { match: true limit: { rate: 5/s, burst: 1 } on_limit: delay(max: 1s) }"#)
        let first = try start(engine)
        XCTAssertTrue(try onLoop { first.sink.forwarded })
        let started = DispatchTime.now().uptimeNanoseconds
        let held = try start(engine)
        XCTAssertFalse(try onLoop { held.sink.forwarded }, "held for ~200 ms")
        XCTAssertTrue(try eventually { held.sink.forwarded })
        XCTAssertGreaterThanOrEqual(DispatchTime.now().uptimeNanoseconds - started, 150_000_000)
        XCTAssertEqual(engine.program.counters[0].count(.delayed), 1)
    }

    func testAWaiterIsWokenByARelease_AndAResetWaiterLeavesNothingBehind() throws {
        let engine = try engine(#"rule "s" { match: true limit: { concurrency: 1 } on_limit: delay(max: 5s) }"#)
        let first = try start(engine)
        let waiting = try start(engine)
        let gone = try start(engine)
        XCTAssertFalse(try onLoop { waiting.sink.forwarded || gone.sink.forwarded })
        XCTAssertEqual(engine.withState { $0.waiterCount }, 2)
        try onLoop { gone.manager.resetStream(.peerReset) }
        XCTAssertEqual(engine.withState { $0.waiterCount }, 1)
        try onLoop { first.complete() }
        XCTAssertTrue(try eventually { waiting.sink.forwarded })
        XCTAssertEqual(inFlight(engine), 1)
        try onLoop { waiting.complete() }
        XCTAssertEqual(inFlight(engine), 0)
        XCTAssertEqual(engine.withState { $0.waiterCount }, 0)
    }

    func testAWaiterIsRefusedAtItsDeadline() throws {
        let engine = try engine(#"rule "s" { match: true limit: { concurrency: 1 } on_limit: delay(max: 100ms) }"#)
        _ = try start(engine)
        let waiting = try start(engine)
        XCTAssertNil(try onLoop { waiting.sink.status })
        XCTAssertTrue(try eventually { waiting.sink.status == 429 })
        XCTAssertEqual(engine.withState { $0.waiterCount }, 0)
        XCTAssertEqual(inFlight(engine), 1)
    }

    func testReloadKeepsSlotsAndDrainedBuckets() throws {
        let source = #"rule "r" { match: true limit: { rate: 1/h, burst: 1 } limit: { concurrency: 5 } }"#
        let engine = try engine(source)
        let first = try start(engine)
        XCTAssertTrue(try onLoop { first.sink.forwarded })
        let rules = try FlowRules.parse(source: #"rule "x" { match: false limit: { concurrency: 1 } }"# + "\n" + source, file: "rules.flow")
        let report = engine.reload(to: FlowProgram(rules: rules, generation: 2, previous: engine.program))
        XCTAssertEqual(report.kept, ["r/concurrency/rule", "r/rate/rule"])
        let second = try start(engine)
        XCTAssertEqual(try onLoop { second.sink.status }, 429, "the drained bucket stayed drained")
        try onLoop { first.complete() }
        let inFlightAfter = engine.withState { state -> Int? in
            guard case .concurrency(let table)? = state.limiter(2) else { return nil }
            return table.entry(at: .key(""))?.inFlight
        }
        XCTAssertEqual(inFlightAfter, 0, "the slot taken before the reload was released to the same limit")
    }

    // MARK: - Deciding on the head (HeadDecision)

    private func decide(_ engine: FlowControlEngine, _ path: String = "/", disabled: Bool = false) -> HeadDecision {
        let info = StreamInfo(listenerName: "l", clientAddress: "10.0.0.1", scheme: "http", requestID: "1")
        var config = FlowControlFilterConfig()
        config.disabled = disabled
        return FlowControlFilterFactory(config: config, engine: engine)
            .decideOnHead(HTTPRequestHead(version: .http1_1, method: .GET, uri: path), streamInfo: info)
    }

    /// Tokens left in rule 0's bucket; nil while no request drew on it (full).
    private func tokens(_ engine: FlowControlEngine) -> Double? {
        engine.withState { state -> Double? in
            guard case .rate(let table)? = state.limiter(0) else { return -1 }
            return table.entry(at: .key(""))?.tokens(now: engine.now)
        }
    }

    func testALocalRateLimitIsDecidedOnTheHead_AndARefusalIsLeftToTheFilterWithNothingTaken() throws {
        let engine = try engine(#"rule "r" { match: path.startsWith("/api") limit: { rate: 1/h, burst: 2 } }"#)
        XCTAssertEqual(decide(engine, "/other"), .pass, "no rule matches")
        XCTAssertEqual(decide(engine, "/api/1"), .pass)
        XCTAssertEqual(decide(engine, "/api/2"), .pass)
        XCTAssertEqual(engine.program.counters[0].count(.allowed), 2)
        XCTAssertLessThan(try XCTUnwrap(tokens(engine)), 1)
        XCTAssertEqual(decide(engine, "/api/3"), .runFilter, "refused: the filter replies")
        XCTAssertEqual(engine.program.counters[0].count(.limited), 0, "the head decision counted no refusal")
        let refused = try start(engine, "/api/3")
        XCTAssertEqual(try onLoop { refused.sink.status }, 429)
        XCTAssertEqual(engine.program.counters[0].count(.limited), 1)
        XCTAssertEqual(engine.program.counters[0].count(.allowed), 2)
    }

    func testAShadowRuleDecidedOnTheHeadCountsShadowed() throws {
        let engine = try engine(#"rule "s" { match: true limit: { rate: 1/h, burst: 1 } on_limit: shadow }"#)
        XCTAssertEqual(decide(engine), .pass)
        XCTAssertEqual(decide(engine), .pass)
        XCTAssertEqual(engine.program.counters[0].count(.allowed), 1)
        XCTAssertEqual(engine.program.counters[0].count(.shadowed), 1)
    }

    func testConcurrencyDelayAndDisabledRules() throws {
        let slots = try engine(#"rule "c" { match: true limit: { concurrency: 1 } }"#)
        XCTAssertEqual(decide(slots), .runFilter, "a slot must be released at the stream's end: the filter holds it")
        XCTAssertEqual(inFlight(slots), 0, "nothing taken")
        XCTAssertEqual(slots.program.counters[0].count(.allowed), 0)
        XCTAssertEqual(decide(slots, disabled: true), .pass)

        let delayed = try engine(#"rule "d" { match: true limit: { rate: 1/h, burst: 1 } on_limit: delay(max: 1s) }"#)
        XCTAssertEqual(decide(delayed), .runFilter)
        XCTAssertNil(tokens(delayed), "nothing taken")

        let mixed = try engine("""
        rule "fast" { match: true limit: { rate: 1/h, burst: 5 } }
        rule "slow" { match: path.startsWith("/slow") limit: { concurrency: 3 } }
        """)
        XCTAssertEqual(decide(mixed, "/slow"), .runFilter, "one undecidable rule leaves the request to the filter")
        XCTAssertNil(tokens(mixed), "nothing taken from the decidable rule either")
        XCTAssertEqual(decide(mixed, "/fast"), .pass)
    }
}
