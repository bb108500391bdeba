import NIOCore
import NIOHTTP1
import XCTest

@testable import HerzHTTP

final class PipelinedRequestQueueTests: XCTestCase {
    func testKeepsOrderAndAccountsBytes() {
        var queue = PipelinedRequestQueue()
        XCTAssertTrue(queue.isEmpty)
        queue.append(.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/a")))
        queue.append(.body(ByteBuffer(string: "12345")))
        queue.append(.end(nil))
        XCTAssertEqual(queue.count, 3)
        XCTAssertEqual(queue.bytes, 2 + 5)
        guard case .head(let head) = queue.popFirst() else { return XCTFail("head first") }
        XCTAssertEqual(head.uri, "/a")
        guard case .body(let body) = queue.popFirst() else { return XCTFail("then body") }
        XCTAssertEqual(body.readableBytes, 5)
        guard case .end = queue.popFirst() else { return XCTFail("then end") }
        XCTAssertEqual(queue.bytes, 0)
        XCTAssertNil(queue.popFirst())
    }

    func testLimitsByBytesAndByParts() {
        var bytes = PipelinedRequestQueue()
        bytes.append(.body(ByteBuffer(repeating: 0, count: PipelinedRequestQueue.pauseThresholdBytes)))
        XCTAssertFalse(bytes.isOverLimit)
        bytes.append(.body(ByteBuffer(repeating: 0, count: 1)))
        XCTAssertTrue(bytes.isOverLimit)
        _ = bytes.popFirst()
        XCTAssertFalse(bytes.isOverLimit)

        var parts = PipelinedRequestQueue()
        for _ in 0...PipelinedRequestQueue.pauseThresholdParts { parts.append(.end(nil)) }
        XCTAssertTrue(parts.isOverLimit)
    }
}
