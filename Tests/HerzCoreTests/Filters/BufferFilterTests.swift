import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

final class BufferFilterTests: XCTestCase {
    func makeManager(max: Int, limit: Int = 1 << 20) -> (FilterManager, RecordingSink) {
        let info = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "1")
        let sink = RecordingSink(log: EventLog())
        let filter = BufferFilterFactory(config: BufferFilterConfig(maxRequestBytes: max)).makeFilter(streamInfo: info)
        return (FilterManager(filters: [filter], streamInfo: info, bufferLimit: limit, sink: sink), sink)
    }

    func testWholeBodyForwardedOnceWithContentLength() {
        let (manager, sink) = makeManager(max: 100)
        manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: ["transfer-encoding": "chunked"]), endStream: false)
        manager.decodeData(buf("hello "), endStream: false)
        manager.decodeData(buf("wor"), endStream: false)
        XCTAssertEqual(sink.log.sink, [])
        manager.decodeData(buf("ld"), endStream: true)
        XCTAssertEqual(sink.log.sink, ["fwd.head", "fwd.data(hello world,E)"])
        guard case .forwardRequestHead(let head, false) = sink.actions[0] else { return XCTFail() }
        XCTAssertEqual(head.headers["content-length"], ["11"])
        XCTAssertFalse(head.headers.contains(name: "transfer-encoding"))
    }

    func testDeclaredContentLengthOverLimitIs413WithoutReadingBody() {
        let (manager, sink) = makeManager(max: 10)
        manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: ["content-length": "11"]), endStream: false)
        XCTAssertEqual(sink.log.sink, ["resp.head(413)", "resp.data(request body too large,E)", "complete"])
        manager.decodeData(buf("01234567890"), endStream: true)
        XCTAssertEqual(sink.actions.count, 3)
    }

    func testStreamedBodyOverLimitIs413() {
        let (manager, sink) = makeManager(max: 5)
        manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"), endStream: false)
        manager.decodeData(buf("abc"), endStream: false)
        manager.decodeData(buf("def"), endStream: false)
        XCTAssertEqual(sink.log.sink, ["resp.head(413)", "resp.data(request body too large,E)", "complete"])
    }

    func testManagerLimitAlsoApplies() {
        let (manager, sink) = makeManager(max: 100, limit: 4)
        manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"), endStream: false)
        manager.decodeData(buf("abc"), endStream: false)
        manager.decodeData(buf("def"), endStream: false)
        XCTAssertEqual(sink.log.sink.first, "resp.head(413)")
    }

    func testHeadersOnlyAndTrailers() {
        var (manager, sink) = makeManager(max: 10)
        manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"), endStream: true)
        XCTAssertEqual(sink.log.sink, ["fwd.head(E)"])

        (manager, sink) = makeManager(max: 10)
        manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"), endStream: false)
        manager.decodeData(buf("ab"), endStream: false)
        manager.decodeTrailers(["x-sum": "1"])
        XCTAssertEqual(sink.log.sink, ["fwd.head", "fwd.data(ab)", "fwd.trailers"])
    }
}
