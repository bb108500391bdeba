import XCTest
@testable import HerzCore

final class FlowControlSlidingWindowTests: XCTestCase {
    private let second = FlowTest.second

    func testCountsTheLastWindowToWithinOneBucket() {
        var window = FlowSlidingWindow(windowNanos: 10 * second, bucketCount: 10)
        window.record(failure: true, now: 0)
        window.record(failure: false, now: 5 * second)
        window.record(failure: true, now: 9 * second + 999)
        XCTAssertEqual(window.counts(now: 9 * second + 999).requests, 3)
        XCTAssertEqual(window.counts(now: 9 * second + 999).failures, 2)
        XCTAssertEqual(window.counts(now: 10 * second).requests, 2, "the 0 s bucket left the window")
        XCTAssertEqual(window.counts(now: 15 * second).requests, 1)
        XCTAssertEqual(window.counts(now: 20 * second).requests, 0)
    }

    func testMemoryIsBoundedAndOldBucketsAreReused() {
        var window = FlowSlidingWindow(windowNanos: second, bucketCount: 4)
        for step in 0..<100_000 { window.record(failure: step % 3 == 0, now: UInt64(step) * 1_000_000) }
        let counts = window.counts(now: 99_999 * 1_000_000)
        XCTAssertGreaterThanOrEqual(counts.requests, 750)
        XCTAssertLessThanOrEqual(counts.requests, 1_000)
    }

    func testMatchesAnExactCountOnRandomEvents() {
        var random = SplitMix64(seed: 0x51DE)
        var window = FlowSlidingWindow(windowNanos: 10 * second, bucketCount: 10)
        var events: [(UInt64, Bool)] = []
        var now: UInt64 = 0
        for _ in 0..<2_000 {
            now += random.next(below: 200_000_000)
            let failure = random.next(below: 2) == 0
            window.record(failure: failure, now: now)
            events.append((now, failure))
            let counts = window.counts(now: now)
            // Exactly the events in the current bucket and the nine before it.
            let oldest = (now / second >= 9 ? now / second - 9 : 0) * second
            let expected = events.filter { $0.0 >= oldest }
            XCTAssertEqual(counts.requests, expected.count)
            XCTAssertEqual(counts.failures, expected.filter(\.1).count)
        }
    }
}
