import Foundation
import Glibc
import HerzCoprocSDK
import NIOCore
import XCTest

/// A filter exercising every kind of answer.
private struct TestFilter: CoprocessorFilter {
    func onRequestHeaders(_ call: CoprocCall) -> AnswerResult {
        if call.headers.contains(WireHeader(":path", "/deny")) {
            return .localReply(CoprocLocalReply(status: 403, body: ByteBuffer(string: "denied"), reason: "test"))
        }
        return .headers(.continue, HeaderMutation(set: [WireHeader("x-seen", "\(call.streamId)")]))
    }

    func onRequestBody(_ call: CoprocCall) -> AnswerResult {
        .data(.continue, body: ByteBuffer(string: String(buffer: call.body).uppercased()))
    }

    func onResponseTrailers(_ call: CoprocCall) -> AnswerResult {
        .headers(.continue, HeaderMutation())  // wrong variant on purpose
    }

    func reload(payload: String) throws -> String {
        guard payload != "bad" else { throw TransportError.invalidFrame("bad payload") }
        return "reloaded \(payload)"
    }

    func makeRingFilter() -> any CoprocessorFilter { TestRingFilter(shared: self) }
}

/// TestFilter on one ring, plus per-stream state: request trailers answer how many trailers calls
/// their stream made on this ring (`x-calls`).
private final class TestRingFilter: CoprocessorFilter, @unchecked Sendable {
    let shared: TestFilter
    var trailerCalls: [UInt64: Int] = [:]

    init(shared: TestFilter) { self.shared = shared }

    func onRequestHeaders(_ call: CoprocCall) -> AnswerResult { shared.onRequestHeaders(call) }
    func onRequestBody(_ call: CoprocCall) -> AnswerResult { shared.onRequestBody(call) }
    func onResponseTrailers(_ call: CoprocCall) -> AnswerResult { shared.onResponseTrailers(call) }
    func onRequestTrailers(_ call: CoprocCall) -> AnswerResult {
        trailerCalls[call.streamId, default: 0] += 1
        return .trailers(.continue, HeaderMutation(set: [WireHeader("x-calls", "\(trailerCalls[call.streamId]!)")]))
    }
    func onStreamEnd(streamId: UInt64, reset: Bool) { trailerCalls[streamId] = nil }
}

final class CoprocessorServerTests: XCTestCase {
    private var path = ""
    private var server: CoprocessorServer!
    /// Left when `run()` returned (a group, so it can be waited on more than once).
    private let finished = DispatchGroup()

    override func setUpWithError() throws {
        path = "/tmp/herz-sdk-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        server = try CoprocessorServer(name: "test", buildVersion: "9.9", filter: TestFilter(),
                                       options: CoprocessorOptions(listenPath: path), handleSignals: false)
        let server = server!, finished = finished
        finished.enter()
        Thread {
            do { try server.run() } catch { XCTFail("run: \(error)") }
            finished.leave()
        }.start()
    }

    override func tearDown() {
        server.shutdown()
        XCTAssertEqual(finished.wait(timeout: .now() + 10), .success, "run() did not return")
    }

    func testHandshakeCallsControlAndDrain() throws {
        let kernel = try KernelHarness(path: path, sessionId: 7)
        XCTAssertTrue(kernel.ack.ok)
        XCTAssertEqual(kernel.ack.controlEndpoint, "ipc://\(path).\(getpid()).ctl")
        guard case .hello(let hello) = try kernel.hello(name: "test") else { return XCTFail("no hello") }
        XCTAssertEqual(hello.name, "test")
        XCTAssertEqual(hello.buildVersion, "9.9")
        XCTAssertEqual(hello.sessionId, 7)
        XCTAssertGreaterThan(hello.generation, 0)

        XCTAssertEqual(try kernel.call(.requestHeaders, streamId: 3, headers: [WireHeader(":path", "/")]).result,
                       .headers(.continue, HeaderMutation(set: [WireHeader("x-seen", "3")])))
        XCTAssertEqual(try kernel.call(.requestHeaders, worker: 1, headers: [WireHeader(":path", "/deny")]).result,
                       .localReply(CoprocLocalReply(status: 403, body: ByteBuffer(string: "denied"), reason: "test")))
        XCTAssertEqual(try kernel.call(.requestBody, body: Array("hello".utf8), endStream: true).result,
                       .data(.continue, body: ByteBuffer(string: "HELLO")))
        XCTAssertEqual(try kernel.call(.responseHeaders).result, .headers(.continue, HeaderMutation()), "default continues")
        guard case .failure(.internal, _) = try kernel.call(.responseTrailers).result else { return XCTFail("wrong-phase answer passed") }
        kernel.send(.streamEnd(streamId: 3, reset: false))
        // A draining session is done only once its streams ended: end the others too.
        kernel.send(.streamEnd(streamId: 1, reset: false))
        kernel.send(.streamEnd(streamId: 1, reset: false), worker: 1)

        XCTAssertEqual(try kernel.control(.heartbeat(sequence: 5, sentNanos: 11)), .heartbeatAck(sequence: 5, sentNanos: 11))
        guard case .stats(let stats) = try kernel.control(.statsRequest) else { return XCTFail("no stats") }
        XCTAssertEqual(stats.callsServed, 5)
        XCTAssertEqual(stats.callsFailed, 1)
        XCTAssertGreaterThan(stats.rssBytes, 0)
        XCTAssertEqual(try kernel.control(.reload(payload: "keys")), .reloadResult(ok: true, message: "reloaded keys"))
        guard case .reloadResult(false, _) = try kernel.control(.reload(payload: "bad")) else { return XCTFail("bad reload accepted") }

        XCTAssertEqual(try kernel.control(.drain(deadlineMillis: 1000)), .drained(inFlight: 0))
        kernel.close()
        XCTAssertEqual(finished.wait(timeout: .now() + 10), .success)  // drained with no session left: run() returns by itself
    }

    func testVersionAndNameMismatchesAreRefused() throws {
        let kernel = try KernelHarness(path: path, sessionId: 1)
        guard case .refuse(let reason) = try kernel.hello(name: "test", ringVersion: 2) else { return XCTFail("accepted ring v2") }
        XCTAssertEqual(reason, "coprocessor test refused: kernel speaks ring protocol 2, coprocessor speaks 1")
        XCTAssertTrue(kernel.attachClosed(), "a refused session is closed")

        let other = try KernelHarness(path: path, sessionId: 2)
        guard case .refuse(let why) = try other.hello(name: "jwt") else { return XCTFail("accepted another name") }
        XCTAssertTrue(why.contains("jwt"))
    }

    func testSessionsAreIndependentAndAViolationClosesOnlyItsOwn() throws {
        let first = try KernelHarness(path: path, sessionId: 1)
        let second = try KernelHarness(path: path, sessionId: 2, workers: 1)
        _ = try first.hello(name: "test")
        _ = try second.hello(name: "test")
        for i in 0..<2000 {
            XCTAssertEqual(try first.call(.requestBody, worker: i % 2, body: [0x61]).result, .data(.continue, body: ByteBuffer(string: "A")))
            XCTAssertEqual(try second.call(.requestBody, body: [0x62]).result, .data(.continue, body: ByteBuffer(string: "B")))
        }
        first.sendRaw([1, 2, 3, 4, 5, 6, 7, 8], worker: 1)  // not a Cap'n Proto frame
        XCTAssertTrue(first.attachClosed())
        XCTAssertEqual(try second.call(.requestBody, body: [0x63]).result, .data(.continue, body: ByteBuffer(string: "C")))
    }

    func testRingFiltersKeepPerStreamStatePerRingAndSession() throws {
        let first = try KernelHarness(path: path, sessionId: 1)
        let second = try KernelHarness(path: path, sessionId: 2)
        _ = try first.hello(name: "test")
        _ = try second.hello(name: "test")
        func calls(_ kernel: KernelHarness, worker: Int = 0) throws -> AnswerResult {
            try kernel.call(.requestTrailers, worker: worker, streamId: 9).result
        }
        func count(_ n: Int) -> AnswerResult { .trailers(.continue, HeaderMutation(set: [WireHeader("x-calls", "\(n)")])) }
        XCTAssertEqual(try calls(first), count(1))
        XCTAssertEqual(try calls(first), count(2))
        XCTAssertEqual(try calls(second), count(1), "another session's stream 9 is another stream")
        XCTAssertEqual(try calls(first, worker: 1), count(1), "another worker's ring has its own table")
        first.send(.streamEnd(streamId: 9, reset: false))
        XCTAssertEqual(try calls(first), count(1), "StreamEnd dropped the state")
        XCTAssertEqual(try calls(second), count(2))
    }

    func testKernelGoingAwayClosesTheSession() throws {
        let kernel = try KernelHarness(path: path, sessionId: 1)
        _ = try kernel.hello(name: "test")
        kernel.close()
        // Once the server saw the EOF, the session is gone and its id is free again.
        var again = try KernelHarness(path: path, sessionId: 1)
        for _ in 0..<200 where !again.ack.ok {
            usleep(5000)
            again = try KernelHarness(path: path, sessionId: 1)
        }
        XCTAssertTrue(again.ack.ok)
    }
}
