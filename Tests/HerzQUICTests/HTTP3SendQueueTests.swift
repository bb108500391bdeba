@testable import HerzQUIC
import NIOCore
import XCTest

final class HTTP3SendQueueTests: XCTestCase {
    func chunk(_ n: Int) -> ByteBuffer { ByteBuffer(repeating: 7, count: n) }

    func testBytesCountUntilAcknowledgedAndWritabilityFollowsTheWatermarks() {
        var queue = HTTP3SendQueue(highWatermark: 100, lowWatermark: 50)
        XCTAssertNil(queue.append(chunk(60)))
        XCTAssertEqual(queue.append(chunk(60)), false, "120 held > 100")
        XCTAssertEqual(queue.takeUnsent(max: 16).map(\.readableBytes), [60, 60])
        XCTAssertEqual(queue.bufferedBytes, 120, "handed over is still held until acknowledged")
        XCTAssertNil(queue.acknowledge(30), "90 held: between the watermarks, still paused")
        XCTAssertEqual(queue.acknowledge(45), true, "45 held < 50")
        XCTAssertEqual(queue.bufferedBytes, 45)
        XCTAssertNil(queue.acknowledge(45))
        XCTAssertEqual(queue.bufferedBytes, 0)
        XCTAssertNil(queue.acknowledge(10), "over-acknowledging is clamped")
        XCTAssertEqual(queue.bufferedBytes, 0)
    }

    func testTakesInOrderUpToTheVectorCount() {
        var queue = HTTP3SendQueue(highWatermark: 1000, lowWatermark: 10)
        for n in 1...5 { _ = queue.append(chunk(n)) }
        _ = queue.append(chunk(0))
        XCTAssertEqual(queue.takeUnsent(max: 2).map(\.readableBytes), [1, 2])
        XCTAssertEqual(queue.takeUnsent(max: 10).map(\.readableBytes), [3, 4, 5], "empty chunks are never queued")
        XCTAssertFalse(queue.hasUnsent)
        queue.end()
        XCTAssertTrue(queue.ended)
    }

    func testDiscardReleasesEverything() {
        var queue = HTTP3SendQueue(highWatermark: 10, lowWatermark: 5)
        _ = queue.append(chunk(20))
        _ = queue.takeUnsent(max: 1)
        _ = queue.append(chunk(20))
        queue.discard()
        XCTAssertEqual(queue.bufferedBytes, 0)
        XCTAssertFalse(queue.hasUnsent)
    }
}
