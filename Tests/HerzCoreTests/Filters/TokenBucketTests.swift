import NIOCore
import XCTest
@testable import HerzCore

final class TokenBucketTests: XCTestCase {
    let second: UInt64 = 1_000_000_000

    func testStartsFullAndRefillsPerWholeInterval() {
        var bucket = TokenBucket(capacity: 3, tokensPerFill: 2, fillInterval: .seconds(10), now: 0)
        XCTAssertEqual((0..<4).map { _ in bucket.tryTake(now: 0) }, [true, true, true, false])
        XCTAssertFalse(bucket.tryTake(now: 9 * second))           // not a whole interval yet
        XCTAssertTrue(bucket.tryTake(now: 10 * second))           // +2
        XCTAssertTrue(bucket.tryTake(now: 10 * second))
        XCTAssertFalse(bucket.tryTake(now: 10 * second))
        bucket.refill(now: 1_000 * second)                         // capped at capacity
        XCTAssertEqual(bucket.tokens, 3)
    }

    func testFillBoundaryIsKeptAcrossPartialIntervals() {
        var bucket = TokenBucket(capacity: 1, tokensPerFill: 1, fillInterval: .seconds(10), now: 0)
        XCTAssertTrue(bucket.tryTake(now: 0))
        XCTAssertTrue(bucket.tryTake(now: 15 * second))           // one fill at 10 s
        XCTAssertFalse(bucket.tryTake(now: 19 * second))           // next fill at 20 s, not 25 s
        XCTAssertTrue(bucket.tryTake(now: 20 * second))
    }

    func testRetryAfterRoundsUpToWholeSecondsAtLeastOne() {
        let bucket = TokenBucket(capacity: 1, tokensPerFill: 1, fillInterval: .seconds(10), now: 0)
        XCTAssertEqual(bucket.retryAfter(now: 0), 10)
        XCTAssertEqual(bucket.retryAfter(now: 2 * second + 1), 8)    // 7.999… s → 8
        XCTAssertEqual(bucket.retryAfter(now: 9 * second + 999), 1)
        let fast = TokenBucket(capacity: 1, tokensPerFill: 1, fillInterval: .milliseconds(100), now: 0)
        XCTAssertEqual(fast.retryAfter(now: 0), 1)
    }

    func testDegenerateConfigsDoNotTrap() {
        var bucket = TokenBucket(capacity: -1, tokensPerFill: Int.max, fillInterval: .nanoseconds(0), now: 5)
        XCTAssertFalse(bucket.tryTake(now: 5))
        XCTAssertFalse(bucket.tryTake(now: UInt64.max))
        var huge = TokenBucket(capacity: 2, tokensPerFill: Int.max, fillInterval: .nanoseconds(1), now: 0)
        XCTAssertTrue(huge.tryTake(now: 0))
        XCTAssertTrue(huge.tryTake(now: UInt64.max / 2))
        XCTAssertEqual(huge.tokens, 1)
    }
}
