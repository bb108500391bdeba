import NIOHTTP1
import XCTest
@testable import HerzCore

final class CoprocUnavailableFilterTests: XCTestCase {
    func testRepliesFailClosedWithReasonDown() {
        let h = Harness([])
        let info = StreamInfo(listenerName: "test", clientAddress: nil, scheme: "http", requestID: "r")
        let filter = CoprocUnavailableFilterFactory(config: CoprocFilterConfig(coprocessor: "jwt")).makeFilter(streamInfo: info)
        let manager = FilterManager(filters: [filter], streamInfo: info, bufferLimit: 1024, sink: h.sink)
        manager.decodeHeaders(Harness.requestHead, endStream: true)
        XCTAssertEqual(h.log.sink, ["resp.head(503)", "resp.data(coprocessor jwt unavailable (down),E)", "complete"])
        if case .sendResponseHead(let head, _)? = h.sink.actions.first {
            XCTAssertEqual(head.headers.first(name: "x-herz-coproc-error"), "down")
        } else {
            XCTFail("no response head")
        }
    }

    func testStreamIDsAreUnique() {
        let a = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "1")
        let b = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "2")
        XCTAssertNotEqual(a.streamID, b.streamID)
        XCTAssertNotEqual(a.streamID, 0)
    }
}
