import XCTest
@testable import HerzCore

final class FlowControlConcurrencyTests: XCTestCase {
    func testCapsInFlightAndNeverGoesNegative() {
        var limiter = FlowConcurrencyLimiter(limit: 2)
        XCTAssertEqual((0..<3).map { _ in limiter.tryAcquire() }, [true, true, false])
        XCTAssertTrue(limiter.release())
        XCTAssertTrue(limiter.tryAcquire())
        XCTAssertTrue(limiter.release())
        XCTAssertTrue(limiter.release())
        XCTAssertFalse(limiter.release(), "nothing in flight: refused")
        XCTAssertEqual(limiter.inFlight, 0)
    }

    func testRandomEventsKeepTheCountInBounds() {
        var random = SplitMix64(seed: 0xC0C0)
        var limiter = FlowConcurrencyLimiter(limit: 5)
        var model = 0
        for _ in 0..<10_000 {
            if random.next(below: 2) == 0 {
                let admitted = limiter.tryAcquire()
                XCTAssertEqual(admitted, model < 5)
                if admitted { model += 1 }
            } else {
                XCTAssertEqual(limiter.release(), model > 0)
                model = max(0, model - 1)
            }
            XCTAssertEqual(limiter.inFlight, model)
        }
    }

    func testLoweredLimitKeepsRequestsInFlight() {
        var limiter = FlowConcurrencyLimiter(limit: 5)
        _ = (0..<4).map { _ in limiter.tryAcquire() }
        var lowered = limiter.reconfigured(limit: 2)
        XCTAssertEqual(lowered.inFlight, 4)
        XCTAssertFalse(lowered.tryAcquire())
        _ = (0..<3).map { _ in lowered.release() }
        XCTAssertTrue(lowered.tryAcquire())
    }

    func testKeyedTableBoundsMemoryAndReleasesWhereItAcquired() {
        var table = FlowKeyedTable<FlowConcurrencyLimiter>(configuration: 1, maxKeys: 2, now: 0)
        let a = table.slot(for: "a", now: 0), b = table.slot(for: "b", now: 0)
        XCTAssertEqual(table.withEntry(at: a) { $0.tryAcquire() }, true)
        XCTAssertEqual(table.withEntry(at: b) { $0.tryAcquire() }, true)
        let c = table.slot(for: "c", now: 0)
        XCTAssertEqual(c, .overflow, "full of busy entries: the new key shares the overflow entry")
        XCTAssertEqual(table.withEntry(at: c) { $0.tryAcquire() }, true)
        XCTAssertEqual(table.withEntry(at: table.slot(for: "d", now: 0)) { $0.tryAcquire() }, false, "overflow keys are limited together")
        XCTAssertEqual(table.withEntry(at: a) { $0.release() }, true)
        XCTAssertEqual(table.slot(for: "e", now: FlowKeyedTable<FlowConcurrencyLimiter>.sweepIntervalNanos), .key("e"),
                       "idle 'a' was swept, losslessly")
        XCTAssertEqual(table.count, 2)
        XCTAssertEqual(table.withEntry(at: c) { $0.release() }, true, "the release goes to the overflow entry that counted it")
        XCTAssertNil(table.withEntry(at: .key("a")) { $0.release() })
    }

    func testKeyedBucketsSweepOnlyFullBuckets() {
        let config = FlowTokenBucket.Configuration(rate: FlowRate(count: 1, periodNanos: FlowTest.second), burst: 1)
        var table = FlowKeyedTable<FlowTokenBucket>(configuration: config, maxKeys: 10, now: 0)
        for key in ["a", "b", "c"] { _ = table.withEntry(at: table.slot(for: key, now: 0)) { $0.acquire(now: 0) } }
        _ = table.slot(for: "d", now: 0)
        table.sweep(now: FlowTest.second / 2)
        XCTAssertEqual(table.count, 3, "only 'd' (never used, full) is pristine")
        table.sweep(now: FlowTest.second)
        XCTAssertEqual(table.count, 0)
    }
}
