import XCTest
@testable import HerzCoproc

final class RingProtocolTests: XCTestCase {
    func testRecordRoundTripsWithPadding() {
        let ring = HeapRing()
        var producer = ring.producer()
        var consumer = ring.consumer()
        XCTAssertEqual(consumer.next(), .empty)
        let bytes: [UInt8] = [1, 2, 3, 4, 5]
        XCTAssertEqual(bytes.withUnsafeBytes { producer.write($0) }, .written(needsDoorbell: false))
        guard case .record(let record) = consumer.next() else { return XCTFail("no record") }
        XCTAssertEqual(Array(record), [1, 2, 3, 4, 5, 0, 0, 0])
        XCTAssertEqual(consumer.next(), .empty)
        XCTAssertFalse(consumer.release())
        XCTAssertEqual(ring.head, 16)
        XCTAssertEqual(ring.tail, 16)
    }

    func testFillMayUseLessThanReservedAndThrowingPublishesNothing() throws {
        let ring = HeapRing()
        var producer = ring.producer()
        var consumer = ring.consumer()
        struct Boom: Error {}
        XCTAssertThrowsError(try producer.write(size: 64) { _ in throw Boom() })
        XCTAssertEqual(ring.tail, 0)
        XCTAssertEqual(producer.write(size: 64) { $0[0] = 7; return 1 }, .written(needsDoorbell: false))
        guard case .record(let record) = consumer.next() else { return XCTFail("no record") }
        XCTAssertEqual(record.count, 8)
        XCTAssertEqual(record[0], 7)
    }

    func testMaxFrameIsHalfTheRingMinusTheHeader() {
        let ring = HeapRing(ringBytes: 8192)
        var producer = ring.producer()
        XCTAssertEqual(producer.maxFrame, 4088)
        XCTAssertEqual(producer.write(size: 4089) { _ in 0 }, .tooLarge)
        XCTAssertEqual(producer.write(size: 4088) { $0.count }, .written(needsDoorbell: false))
        XCTAssertEqual(producer.write(size: 4088) { $0.count }, .written(needsDoorbell: false))
        XCTAssertEqual(producer.write(size: 0) { _ in 0 }, .full)
    }

    func testWrapAroundWithMixedSizesOverMillionsOfBytes() {
        let ring = HeapRing(ringBytes: 4096)
        var producer = ring.producer()
        var consumer = ring.consumer()
        var written: UInt64 = 0, read: UInt64 = 0, bytes = 0
        var wraps = 0
        while bytes < 4_000_000 {
            // Write until full, then read a varying number of records.
            while true {
                let size = TestFrames.size(written, max: producer.maxFrame)
                let before = ring.tail
                let result = producer.write(size: size) { TestFrames.fill($0, sequence: written); return size }
                if result == .full { break }
                XCTAssertEqual(result, .written(needsDoorbell: false))
                if (before & 4095) + UInt64(8 + ((size + 7) & ~7)) > 4096 { wraps += 1 }
                written += 1
                bytes += size
            }
            let toRead = Int(read % 5) + 1
            for _ in 0..<toRead {
                guard case .record(let record) = consumer.next() else { break }
                XCTAssertEqual(TestFrames.check(record, size: TestFrames.size(read, max: consumer.maxFrame)), read)
                read += 1
            }
            XCTAssertFalse(consumer.release())
        }
        while case .record(let record) = consumer.next() {
            XCTAssertEqual(TestFrames.check(record, size: TestFrames.size(read, max: consumer.maxFrame)), read)
            read += 1
        }
        XCTAssertEqual(read, written)
        XCTAssertGreaterThan(wraps, 100)
    }

    func testFullRingWaitsAndConsumerWakesTheProducer() {
        let ring = HeapRing()
        var producer = ring.producer()
        var consumer = ring.consumer()
        while producer.write(size: 1000, fill: { $0.count }) != .full {}
        XCTAssertTrue(producer.prepareToWait(size: 1000))
        guard case .record = consumer.next() else { return XCTFail("no record") }
        XCTAssertTrue(consumer.release(), "the producer waits: ring its doorbell")
        guard case .record = consumer.next() else { return XCTFail("no record") }
        XCTAssertFalse(consumer.release(), "the flag was claimed once")
        XCTAssertEqual(producer.write(size: 1000) { $0.count }, .written(needsDoorbell: false))
    }

    func testPrepareToWaitSeesSpaceFreedMeanwhile() {
        let ring = HeapRing()
        var producer = ring.producer()
        var consumer = ring.consumer()
        while producer.write(size: 1000, fill: { $0.count }) != .full {}
        _ = consumer.next()
        _ = consumer.release()
        XCTAssertFalse(producer.prepareToWait(size: 1000))
        XCTAssertFalse(consumer.release())
    }

    func testSleepingConsumerIsWokenOnceAndAwakeConsumerNever() {
        let ring = HeapRing()
        var producer = ring.producer()
        var consumer = ring.consumer()
        XCTAssertEqual(producer.write(size: 8) { $0.count }, .written(needsDoorbell: false))
        XCTAssertFalse(consumer.prepareToSleep(), "data is there: keep consuming")
        _ = consumer.next()
        XCTAssertTrue(consumer.prepareToSleep())
        XCTAssertEqual(producer.write(size: 8) { $0.count }, .written(needsDoorbell: true))
        XCTAssertEqual(producer.write(size: 8) { $0.count }, .written(needsDoorbell: false))
        XCTAssertTrue(consumer.hasPublishedData())
        _ = consumer.next(); _ = consumer.next()
        XCTAssertTrue(consumer.prepareToSleep())
        consumer.didWake()
        XCTAssertEqual(producer.write(size: 8) { $0.count }, .written(needsDoorbell: false))
    }
}
