import XCTest
import HerzCoproc

final class RingViolationTests: XCTestCase {
    private func firstResult(_ craft: (HeapRing) -> Void) -> RingConsumer.Next {
        let ring = HeapRing(ringBytes: 4096)
        craft(ring)
        var consumer = ring.consumer()
        return consumer.next()
    }

    func testUnknownKind() {
        XCTAssertEqual(firstResult { $0.writeHeader(at: 0, length: 8, kind: 3); $0.tail = 16 }, .violation(.unknownKind(3)))
    }

    func testUnalignedLength() {
        XCTAssertEqual(firstResult { $0.writeHeader(at: 0, length: 12, kind: 1); $0.tail = 24 }, .violation(.unalignedLength(12)))
    }

    func testLengthBeyondMaxFrame() {
        XCTAssertEqual(firstResult { $0.writeHeader(at: 0, length: 2048, kind: 1); $0.tail = 4096 }, .violation(.lengthExceedsMaxFrame(2048)))
    }

    func testRecordPastTail() {
        XCTAssertEqual(firstResult { $0.writeHeader(at: 0, length: 64, kind: 1); $0.tail = 16 }, .violation(.pastTail))
        XCTAssertEqual(firstResult { $0.tail = 4 }, .violation(.pastTail), "a header needs 8 bytes")
    }

    func testMessagePastRingEnd() {
        XCTAssertEqual(firstResult { ring in
            ring.head = 4064; ring.tail = 4064 + 48
            ring.writeHeader(at: 4064, length: 40, kind: 1)
        }, .violation(.pastRingEnd))
    }

    func testWrapRecordMustEndAtTheRingEnd() {
        XCTAssertEqual(firstResult { ring in
            ring.writeHeader(at: 0, length: 8, kind: 2); ring.tail = 16
        }, .violation(.pastRingEnd))
    }

    func testTailOutOfRange() {
        XCTAssertEqual(firstResult { $0.tail = 4096 + 8 }, .violation(.tailOutOfRange(head: 0, tail: 4104)))
        XCTAssertEqual(firstResult { $0.head = 64; $0.tail = 32 }, .violation(.tailOutOfRange(head: 64, tail: 32)))
    }

    func testValidWrapIsSkipped() {
        let ring = HeapRing(ringBytes: 4096)
        ring.head = 4080; ring.tail = 4096 + 16
        ring.writeHeader(at: 4080, length: 8, kind: 2)
        ring.writeHeader(at: 0, length: 8, kind: 1)
        var consumer = ring.consumer()
        guard case .record(let record) = consumer.next() else { return XCTFail("expected the record after the wrap") }
        XCTAssertEqual(record.count, 8)
        XCTAssertEqual(consumer.next(), .empty)
    }

    func testViolationIsSticky() {
        let ring = HeapRing(ringBytes: 4096)
        ring.writeHeader(at: 0, length: 8, kind: 9); ring.tail = 16
        var consumer = ring.consumer()
        XCTAssertEqual(consumer.next(), .violation(.unknownKind(9)))
        XCTAssertEqual(consumer.next(), .violation(.unknownKind(9)))
    }
}
