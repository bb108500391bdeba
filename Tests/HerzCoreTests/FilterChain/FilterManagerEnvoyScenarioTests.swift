import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

/// The scenarios that broke Envoy's filter manager (ARCHITECTURE.md §3), one test each, plus the
/// shared-buffer hazard. Chain `A, F, C` unless said otherwise; `F` is the filter under test.
final class FilterManagerEnvoyScenarioTests: XCTestCase {
    /// Envoy #5311: data added while handling headers, then `continueDecoding()`: it reaches the next
    /// filter exactly once, in order.
    func testEnvoy5311_dataAddedDuringHeadersThenContinue() {
        // Headers-only request: the added body takes over the end of the stream.
        var h = Harness(["A", "F", "C"])
        h["F"].dh = [.stopIteration]
        h["F"].once(.decodeHeaders) { _, cb, _ in cb.addDecodedData(buf("x")) }
        h.request(end: true)
        h.continueDecoding("F")
        h.continueDecoding("F")
        XCTAssertEqual(h.log.view("C"), ["~", "dh", "dd(x,E)", "~"])
        XCTAssertEqual(h.log.sink, ["~", "fwd.head", "fwd.data(x,E)", "~"])

        // With a streamed body: the added bytes come before the body, once.
        h = Harness(["A", "F", "C"])
        h["F"].dh = [.stopIteration]
        h["F"].dd = [.stopIterationAndBuffer]
        h["F"].once(.decodeHeaders) { _, cb, _ in cb.addDecodedData(buf("x")) }
        h.request()
        h.data("y")
        h.continueDecoding("F")
        h.data("z", end: true)
        XCTAssertEqual(h.log.view("F"), ["dh", "dd(y)", "~", "dd(z,E)"])
        XCTAssertEqual(h.log.view("C"), ["~", "dh", "dd(xy)", "dd(z,E)"])
        XCTAssertEqual(h.violations, [])
    }

    /// Envoy #4925: Continue from decodeData *and* continueDecoding() in the same callback: no crash,
    /// no double delivery.
    func testEnvoy4925_continueStatusPlusContinueDecoding() {
        let h = Harness(["A", "F", "C"])
        h["F"].dh = [.stopIteration]
        h["F"].hooks[.decodeData] = { _, cb, _ in cb.continueDecoding() }
        h.request()
        h.data("a")
        h.data("b", end: true)
        h.continueDecoding("F")  // async and not stopped: a no-op as well
        XCTAssertEqual(h.log.view("C"), ["dh", "dd(a)", "dd(b,E)", "~"])
        XCTAssertEqual(h.log.sink, ["fwd.head", "fwd.data(a)", "fwd.data(b,E)", "~"])
    }

    /// Envoy #22064: data injected into the chain, then continue: delivered once.
    func testEnvoy22064_injectThenContinueDeliversOnce() {
        let h = Harness(["A", "F", "C"])
        h["F"].dd = [.stopIterationNoBuffer]
        h["F"].once(.decodeData) { _, cb, _ in cb.injectDecodedData(buf("A"), endStream: false) }
        h.request()
        h.data("a")
        h.continueDecoding("F")
        h.log.add("~")
        h["F"].callbacks.injectDecodedData(buf("B"), endStream: false)  // async inject
        h.continueDecoding("F")
        h.data("c", end: true)
        XCTAssertEqual(h.log.view("C"), ["dh", "dd(A)", "~", "~", "dd(B)", "~", "dd(c,E)"])
        XCTAssertEqual(h.violations, [])
    }

    /// Envoy #28326: StopAllIterationAndBuffer, then continueEncoding(), then StopIterationNoBuffer:
    /// the response still completes (by a later continue, or by the filter injecting the end).
    func testEnvoy28326_stopAllThenContinueThenNoBufferCompletes() {
        for injectEnd in [false, true] {
            let h = Harness(["C", "F", "A"])  // encode order A, F, C
            h.request(end: true)
            h["F"].eh = [.stopAllIterationAndBuffer]
            h["F"].ed = [.stopIterationNoBuffer]
            h.response()
            h.responseData("r", end: true)
            h.continueEncoding("F")
            XCTAssertFalse(h.manager.isComplete)
            if injectEnd {
                h["F"].callbacks.injectEncodedData(buf("R"), endStream: true)
            } else {
                h.continueEncoding("F")
            }
            XCTAssertEqual(h.log.view("F").filter { $0.hasPrefix("e") || $0 == "~" }, ["eh(200)", "~", "ed(r,E)"] + (injectEnd ? [] : ["~"]))
            let body = injectEnd ? "resp.data(R,E)" : "resp.data(,E)"
            XCTAssertEqual(h.log.sink, ["fwd.head(E)", "~", "resp.head(200)"] + (injectEnd ? [] : ["~"]) + [body, "complete"])
            XCTAssertTrue(h.manager.isComplete)
        }
    }

    /// Envoy #46841: a filter that moves the current chunk into the buffer (adds it, drains its
    /// argument) and returns Continue does not lose it.
    func testEnvoy46841_chunkMovedToBufferWithContinueIsNotLost() {
        let h = Harness(["A", "F", "C"])
        h["F"].hooks[.decodeData] = { _, cb, data in
            cb.addDecodedData(data!)
            data = ByteBuffer()
        }
        h.request()
        h.data("a")
        h.data("b", end: true)
        XCTAssertEqual(h.log.view("C"), ["dh", "dd(a)", "dd(b,E)"])
    }

    /// kgateway #4801: the buffer limit triggers a local reply while a filter is still running: the
    /// chain is torn down only after that filter returns, and no filter is called after teardown.
    func testKgateway4801_limitHitWhileFilterRunsTearsDownAfterItReturns() {
        let h = Harness(["A", "F", "C"], bufferLimit: 4)
        h["F"].ddDefault = .stopIterationAndBuffer
        h["F"].once(.decodeData) { _, cb, _ in
            cb.addDecodedData(buf("0123456789"))  // over the limit, while F runs
            cb.continueDecoding()                   // dropped: the stream is torn down first
        }
        h["F"].onComplete = { filter in
            filter.callbacks.continueDecoding()
            filter.callbacks.sendLocalReply(status: .badRequest)
            filter.callbacks.injectDecodedData(buf("late"), endStream: true)
        }
        h.request()
        h.data("a")
        h.data("b", end: true)  // ignored: the request was abandoned
        h.manager.encodeHeaders(Harness.responseHead(), endStream: true)  // ignored: superseded
        XCTAssertEqual(h.log.entries, [
            "A.dh", "F.dh", "C.dh", "> fwd.head",
            "A.dd(a)", "F.dd(a)",
            "> cancel",
            "A.eh(413)", "> resp.head(413)", "A.ed(request body too large,E)", "> resp.data(request body too large,E)",
            "A.done", "F.done", "C.done", "> complete",
        ])
        XCTAssertEqual(h.violations, [])
    }

    /// ContinueAndDontEndStream, then added data, then continue: the body is well formed.
    func testContinueAndDontEndStreamThenAddedDataThenContinue() {
        let h = Harness(["A", "F", "C"])
        h["F"].dh = [.continueAndDontEndStream]
        h["F"].once(.decodeHeaders) { _, cb, _ in cb.addDecodedData(buf("x")) }
        h.request(end: true)
        h.log.add("~")
        h["F"].callbacks.addDecodedData(buf("y"))
        h.continueDecoding("F")
        h.continueDecoding("F")
        XCTAssertEqual(h.log.view("C"), ["dh", "dd(x)", "~", "dd(y)", "~", "dd(,E)", "~"])
        XCTAssertEqual(h.log.sink, ["fwd.head", "fwd.data(x)", "~", "fwd.data(y)", "~", "fwd.data(,E)", "~"])

        // Ending with an injected final chunk instead; a later continue is a no-op.
        let g = Harness(["A", "F", "C"])
        g["F"].dh = [.continueAndDontEndStream]
        g.request(end: true)
        g["F"].callbacks.injectDecodedData(buf("z"), endStream: true)
        g.continueDecoding("F")
        XCTAssertEqual(g.log.sink, ["fwd.head", "fwd.data(z,E)", "~"])
    }

    /// The shared-buffer hazard: a filter that already let data continue and later returns
    /// StopIterationAndBuffer cannot make the next filter see data twice or out of order — each
    /// position has its own queue and bytes are moved, never copied.
    func testSharedBufferHazardIsImpossible() {
        let h = Harness(["F", "G", "C"])
        h["F"].dd = [.continue, .stopIterationAndBuffer, .stopIterationAndBuffer, .continue]
        h["G"].dd = [.continue, .stopIterationAndBuffer, .continue]
        h.request()
        h.data("1")  // F: continue, G: continue
        h.data("2")  // F: buffer
        h.data("3")  // F: buffer
        h.continueDecoding("F")  // "23" → G: buffer
        h.data("4")  // F: continue → G (stopped; sees it): continue releases "23" + "4"
        h.data("5", end: true)
        XCTAssertEqual(h.log.view("G"), ["dh", "dd(1)", "~", "dd(23)", "dd(4)", "dd(5,E)"])
        XCTAssertEqual(h.log.view("C"), ["dh", "dd(1)", "~", "dd(234)", "dd(5,E)"])
        let forwarded = h.sink.actions.compactMap { action -> String? in
            if case .forwardRequestData(let d, _) = action { return text(d) }
            return nil
        }.joined()
        XCTAssertEqual(forwarded, "12345")
    }

    /// stopAllIteration: the body queued before the filter is handed to the filter itself first.
    func testStopAllDeliversQueuedBodyToTheStoppedFilterFirst() {
        let h = Harness(["A", "F", "C"])
        h["F"].dh = [.stopAllIterationAndBuffer]
        h["F"].dd = [.stopIterationAndBuffer]
        h.request()
        h.data("a")
        h.data("b")
        XCTAssertEqual(h["F"].callbacks.decodingBuffer.map(text), nil)  // queued before F, not behind it
        h.continueDecoding("F")
        XCTAssertEqual(h["F"].callbacks.decodingBuffer.map(text), "ab")
        h.data("c", end: true)
        XCTAssertEqual(h.log.view("F"), ["dh", "~", "dd(ab)", "dd(c,E)"])
        XCTAssertEqual(h.log.view("C"), ["~", "dh", "dd(abc,E)"])
    }

    /// Zero filters: every event maps straight to its action.
    func testZeroFiltersFastPath() {
        let h = Harness([])
        h.request()
        h.data("a")
        h.trailers()
        h.response()
        h.responseData("r")
        h.responseTrailers()
        XCTAssertEqual(h.log.sink, ["fwd.head", "fwd.data(a)", "fwd.trailers", "resp.head(200)", "resp.data(r)", "resp.trailers", "complete"])
    }

    /// A filter may edit the head it holds (e.g. set content-length once the body is complete).
    func testModifyHeldRequestHead() {
        let h = Harness(["F", "C"])
        h["F"].dh = [.stopIteration]
        h.request()
        XCTAssertTrue(h["F"].callbacks.modifyHeldRequestHead { $0.headers.replaceOrAdd(name: "x-edited", value: "1") })
        h.continueDecoding("F")
        XCTAssertFalse(h["F"].callbacks.modifyHeldRequestHead { _ in })
        guard case .forwardRequestHead(let head, _)? = h.sink.actions.first else { return XCTFail() }
        XCTAssertEqual(head.headers["x-edited"], ["1"])
    }
}
