import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

final class HeaderMutationFilterTests: XCTestCase {
    func testRequestAndResponseMutations() {
        let config = HeaderMutationConfig(
            request: HeaderMutations(add: [HeaderValueOption(name: "x-a", value: "2"), HeaderValueOption(name: "x-b", value: "new", append: false)],
                                     remove: ["x-secret"]),
            response: HeaderMutations(add: [HeaderValueOption(name: "server", value: "herz", append: false)], remove: ["x-powered-by"]))
        let filter = HeaderMutationFilterFactory(config: config).makeFilter(streamInfo: StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "1"))
        let log = EventLog()
        let sink = RecordingSink(log: log)
        let manager = FilterManager(filters: [filter], streamInfo: StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "1"),
                                    bufferLimit: 1024, sink: sink)
        manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/",
                                              headers: ["x-a": "1", "x-b": "old", "x-b": "older", "x-secret": "s"]), endStream: true)
        manager.encodeHeaders(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["server": "up", "x-powered-by": "php"]), endStream: true)
        guard case .forwardRequestHead(let request, true) = sink.actions[0],
              case .sendResponseHead(let response, true) = sink.actions[1] else { return XCTFail("\(log.sink)") }
        XCTAssertEqual(request.headers["x-a"], ["1", "2"])
        XCTAssertEqual(request.headers["x-b"], ["new"])
        XCTAssertFalse(request.headers.contains(name: "x-secret"))
        XCTAssertEqual(response.headers["server"], ["herz"])
        XCTAssertFalse(response.headers.contains(name: "x-powered-by"))
    }

    func testRemovalsRunBeforeAdditions() {
        var headers: HTTPHeaders = ["x-id": "old"]
        HeaderMutationFilter.apply(HeaderMutations(add: [HeaderValueOption(name: "x-id", value: "new")], remove: ["x-id"]), to: &headers)
        XCTAssertEqual(headers["x-id"], ["new"])
    }
}
