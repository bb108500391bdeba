import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

/// Completion: `onStreamComplete` once per filter, `.streamComplete` once, nothing after.
final class FilterManagerCompletionTests: XCTestCase {
    func testNormalCompletionCallsEveryFilterOnce() {
        let h = Harness(["A", "B"])
        h.request()
        h.data("q", end: true)
        h.response()
        h.responseData("r", end: true)
        XCTAssertTrue(h.manager.isComplete)
        XCTAssertEqual(h.filters.map(\.completions), [1, 1])
        XCTAssertEqual(Array(h.log.entries.suffix(3)), ["A.done", "B.done", "> complete"])
        // Everything after completion is ignored.
        h.response()
        h.responseData("x", end: true)
        h.manager.resetStream(.peerReset)
        h.manager.sendLocalReply(status: .notFound, body: "", headers: [:])
        h["A"].callbacks.continueDecoding()
        h["B"].callbacks.injectEncodedData(buf("late"), endStream: true)
        XCTAssertEqual(h.log.sink.last, "complete")
        XCTAssertEqual(h.log.sink.filter { $0 == "complete" }.count, 1)
        XCTAssertEqual(h.filters.map(\.completions), [1, 1])
        XCTAssertEqual(h.violations, [])
    }

    func testPeerResetEmitsOnlyStreamComplete() {
        let h = Harness(["A", "F"])
        h["F"].dh = [.stopIteration]
        h["F"].ddDefault = .stopIterationAndBuffer
        h.request()
        h.data("a")
        XCTAssertEqual(h["F"].callbacks.decodingBuffer.map(text), "a")
        h.manager.resetStream(.peerReset)
        h.continueDecoding("F")
        h.data("b", end: true)
        XCTAssertEqual(h.log.sink, ["complete", "~"])
        XCTAssertEqual(h.filters.map(\.completions), [1, 1])
        XCTAssertNil(h["F"].callbacks.decodingBuffer)
    }

    func testResetRequestedDuringACallbackTakesEffectAfterItReturns() {
        let h = Harness(["A", "F", "C"])
        h["F"].once(.decodeHeaders) { filter, _, _ in
            h.manager.resetStream(.peerReset)
            filter.log.add("F.still-running")
        }
        h.request(end: true)
        XCTAssertEqual(h.log.entries, ["A.dh(E)", "F.dh(E)", "F.still-running", "A.done", "F.done", "C.done", "> complete"])
    }

    func testEarlyResponseCompletesWhileRequestIsStreaming() {
        let h = Harness(["A"])
        h.request()
        h.data("a")
        h.response(end: true)
        h.data("b", end: true)  // ignored
        XCTAssertEqual(h.log.sink, ["fwd.head", "fwd.data(a)", "resp.head(200,E)", "complete"])
        XCTAssertEqual(h.log.view("A"), ["dh", "dd(a)", "eh(200,E)", "done"])
    }

    func testMisuseIsIgnored() {
        let h = Harness(["A"])
        h.data("early")        // before headers
        h.trailers()
        h.response()           // response before request is allowed (e.g. an immediate reply)
        h.request(end: true)
        h.request()            // second head
        h.data("after end")
        XCTAssertEqual(h.log.sink, ["resp.head(200)", "fwd.head(E)"])
        XCTAssertFalse(h.manager.isComplete)
    }

    func testSinkReentrancyTerminalRepliesSynchronously() {
        // The router answers 404 synchronously when it receives the request head.
        let h = Harness(["A", "B"])
        h.sink.onAction = { action, manager in
            if case .forwardRequestHead = action {
                manager.sendLocalReply(status: .notFound, body: "", headers: [:])
            }
        }
        h.request()
        h.data("ignored", end: true)
        XCTAssertEqual(h.log.sink, ["fwd.head", "resp.head(404,E)", "complete"])
        XCTAssertEqual(h.filters.map(\.completions), [1, 1])
    }

    func testFilterKeepingCallbacksAfterManagerIsGone() {
        var h: Harness? = Harness(["A"])
        h!.request()
        let callbacks = h!["A"].callbacks!
        h = nil
        callbacks.continueDecoding()
        callbacks.sendLocalReply(status: .ok)
        XCTAssertNil(callbacks.decodingBuffer)
    }
}
