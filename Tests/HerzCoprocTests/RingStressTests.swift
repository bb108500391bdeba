import XCTest
import Glibc
import HerzCoproc

/// Producer and consumer on two threads, waking each other with a real doorbell socketpair exactly
/// as the protocol prescribes. A lost wake-up shows as a poll timeout; loss, duplication or
/// reordering as a sequence mismatch; corruption as a content mismatch.
final class RingStressTests: XCTestCase {
    private static let frames: UInt64 = 300_000

    /// Waits for a doorbell byte; fails the test on a timeout (a lost wake-up) and returns false on EOF.
    private static func sleep(on doorbell: Doorbell) -> Bool {
        var item = pollfd(fd: doorbell.fd, events: Int16(POLLIN), revents: 0)
        let rc = poll(&item, 1, 5000)
        precondition(rc != 0, "lost wake-up: no doorbell within 5 s")
        return doorbell.drain() != .peerGone
    }

    func testTwoThreadsWithDoorbellsLoseNothing() throws {
        let ring = HeapRing(ringBytes: 16384)
        let (producerBell, consumerBell) = try Doorbell.pair()
        let done = expectation(description: "producer finished")
        final class Counter: @unchecked Sendable { var value = 0 }
        let producerSleeps = Counter()

        let producerThread = Thread {
            var producer = ring.producer()
            var sequence: UInt64 = 0
            while sequence < Self.frames {
                let size = TestFrames.size(sequence, max: producer.maxFrame)
                switch producer.write(size: size, fill: { TestFrames.fill($0, sequence: sequence); return size }) {
                case .written(let needsDoorbell):
                    if needsDoorbell { producerBell.ring() }
                    sequence += 1
                case .full:
                    if producer.prepareToWait(size: size) {
                        producerSleeps.value += 1
                        if !Self.sleep(on: producerBell) { return }
                    }
                case .tooLarge:
                    preconditionFailure("test frames fit")
                }
            }
            done.fulfill()
        }
        producerThread.start()

        var consumer = ring.consumer()
        var expected: UInt64 = 0
        var consumerSleeps = 0
        var checksum: UInt64 = 0
        while expected < Self.frames {
            var batch = 0
            var last = RingConsumer.Next.empty
            while batch < 16 {
                last = consumer.next()
                guard case .record(let record) = last else { break }
                let size = TestFrames.size(expected, max: consumer.maxFrame)
                guard let sequence = TestFrames.check(record, size: size), sequence == expected else {
                    return XCTFail("frame \(expected) lost, duplicated, reordered or corrupt")
                }
                checksum &+= sequence
                expected += 1
                batch += 1
            }
            if consumer.release() { consumerBell.ring() }
            if batch == 0 {
                if case .violation(let why) = last { return XCTFail("violation: \(why)") }
                if consumer.prepareToSleep() {
                    consumerSleeps += 1
                    XCTAssertTrue(Self.sleep(on: consumerBell))
                    consumer.didWake()
                }
            }
        }
        wait(for: [done], timeout: 30)
        XCTAssertEqual(checksum, Self.frames * (Self.frames - 1) / 2)
        XCTAssertEqual(consumer.next(), .empty)
        // Both paths were exercised (on a loaded 2-core machine both sides sleep many times).
        print("stress: consumer slept \(consumerSleeps)×, producer waited \(producerSleeps.value)×")
    }
}
