import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

/// Buffer limits: `…AndBuffer` overflows fail the stream, `…AndWatermark` overflows pause the peer.
final class FilterManagerBufferLimitTests: XCTestCase {
    func testRequestBufferOverflowIs413FromTheBufferingFilter() {
        // Buffered behind F (data status) and before F (stopAll): both are F's, both 413.
        for stopAll in [false, true] {
            let h = Harness(["A", "F", "C"], bufferLimit: 4)
            if stopAll { h["F"].dh = [.stopAllIterationAndBuffer] } else { h["F"].ddDefault = .stopIterationAndBuffer }
            h.request()
            h.data("abc")
            h.data("def")
            h.data("g", end: true)
            let head = stopAll ? [] : ["fwd.head", "cancel"]
            XCTAssertEqual(h.log.sink, head + ["resp.head(413)", "resp.data(request body too large,E)", "complete"], "stopAll \(stopAll)")
            XCTAssertEqual(h.log.entries.filter { $0.contains(".eh") }, ["A.eh(413)"])
            XCTAssertFalse(h.log.entries.contains("C.dd(abc)"))
        }
    }

    func testResponseBufferOverflowIs500BeforeHeadersWentOut() {
        let h = Harness(["C", "F", "A"], bufferLimit: 4)  // encode order A, F, C
        h["F"].eh = [.stopIteration]
        h["F"].edDefault = .stopIterationAndBuffer
        h.request(end: true)
        h.response()
        h.responseData("abc")
        h.responseData("def")
        XCTAssertEqual(h.log.sink, ["fwd.head(E)", "cancel", "resp.head(500)", "resp.data(response body too large,E)", "complete"])
        XCTAssertFalse(h.log.entries.contains { $0.hasPrefix("C.e") })
    }

    func testResponseBufferOverflowResetsOnceHeadersWentOut() {
        let h = Harness(["C", "F", "A"], bufferLimit: 4)
        h["F"].edDefault = .stopIterationAndBuffer
        h.request(end: true)
        h.response()
        h.responseData("abc")
        h.responseData("def")
        h.responseData("g", end: true)  // ignored
        XCTAssertEqual(h.log.sink, ["fwd.head(E)", "resp.head(200)", "reset(responseBufferOverflow)", "complete"])
        XCTAssertEqual(h.filters.map(\.completions), [1, 1, 1])
    }

    func testRequestWatermarkPausesOnceAndResumesOnce() {
        let h = Harness(["A", "F", "C"], bufferLimit: 4)
        h["F"].ddDefault = .stopIterationAndWatermark
        h.request()
        h.data("abc")
        h.data("def")  // 6 > 4: pause
        h.data("gh")   // still over: no second pause
        h.continueDecoding("F")  // drained: resume once
        h["F"].ddDefault = .continue
        h.data("i", end: true)
        XCTAssertEqual(h.log.sink, ["fwd.head", "pause(down)", "~", "resume(down)", "fwd.data(abcdefgh)", "fwd.data(i,E)"])
    }

    func testResponseWatermarkPausesUpstream() {
        let h = Harness(["C", "F", "A"], bufferLimit: 4)
        h["F"].eh = [.stopAllIterationAndWatermark]
        h.request(end: true)
        h.response()
        h.responseData("abc")
        h.responseData("de")
        h.responseData("f", end: true)
        h.continueEncoding("F")
        XCTAssertEqual(h.log.sink, ["fwd.head(E)", "pause(up)", "~", "resp.head(200)", "resume(up)", "resp.data(abcdef,E)", "complete"])
    }

    func testWatermarkAndLocalReplyKeepPauseResumePaired() {
        let h = Harness(["A", "F"], bufferLimit: 2)
        h["F"].ddDefault = .stopIterationAndWatermark
        h.request()
        h.data("abc")
        h["F"].callbacks.sendLocalReply(status: .badRequest)
        XCTAssertEqual(h.log.sink, ["fwd.head", "pause(down)", "resume(down)", "cancel", "resp.head(400,E)", "complete"])
    }
}
