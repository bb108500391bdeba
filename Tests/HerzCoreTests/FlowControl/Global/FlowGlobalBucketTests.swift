import XCTest
@testable import HerzCore

/// The script's integer units, key names and reply decoding.
final class FlowGlobalBucketTests: XCTestCase {
    private let second = FlowTest.second, ms = FlowTest.millisecond

    func testUnitsAreExactIntegers() throws {
        let hundred = try XCTUnwrap(FlowGlobalBucket(rate: FlowRate(count: 100, periodNanos: second), burst: 200))
        XCTAssertEqual(hundred.unitsPerToken, 10_000)     // 1 s = 10⁶ µs; gcd(100, 10⁶) = 100
        XCTAssertEqual(hundred.gainPerMicro, 1)
        XCTAssertEqual(hundred.capacity, 2_000_000)
        XCTAssertEqual(hundred.idleExpiryMillis, 2_001, "an empty bucket is full after 2 s")
        let third = try XCTUnwrap(FlowGlobalBucket(rate: FlowRate(count: 3, periodNanos: second), burst: 1))
        XCTAssertEqual(third.unitsPerToken, 1_000_000)
        XCTAssertEqual(third.gainPerMicro, 3, "1/3 s per token without rounding")
        XCTAssertEqual(third.idleExpiryMillis, 335)
    }

    func testAPeriodWithAFractionOfAMicrosecondIsRoundedUpToASlowerRate() throws {
        let bucket = try XCTUnwrap(FlowGlobalBucket(rate: FlowRate(count: 10, periodNanos: 250 * ms + 1), burst: 10))
        XCTAssertEqual(bucket.unitsPerToken * 10, bucket.gainPerMicro * 250_001, "period 250,001 µs")
    }

    func testExtremePairsAreRefusedRatherThanRounded() {
        XCTAssertNil(FlowGlobalBucket(rate: FlowRate(count: 1, periodNanos: 24 * 3_600 * second), burst: 1_000_000_000))
        XCTAssertFalse(FlowGlobalBucket.canRepresent(rate: FlowRate(count: 7, periodNanos: 3_600 * second), burst: 1_000_000_000))
        XCTAssertTrue(FlowGlobalBucket.canRepresent(rate: FlowRate(count: 1_000_000_000, periodNanos: ms), burst: 1_000_000_000))
        XCTAssertTrue(FlowGlobalBucket.canRepresent(rate: FlowRate(count: 1, periodNanos: 3_600 * second), burst: 1_000_000))
    }

    func testScriptArguments() throws {
        let bucket = try XCTUnwrap(FlowGlobalBucket(rate: FlowRate(count: 100, periodNanos: second), burst: 200))
        XCTAssertEqual(FlowGlobalScript.arguments(bucket, want: 8, need: 1), ["10000", "1", "2000000", "8", "1", "2001"])
        XCTAssertEqual(FlowGlobalScript.arguments(bucket, want: 1, need: 3), ["10000", "1", "2000000", "3", "3", "2001"], "want ≥ need")
    }

    func testGrantRepliesOfAnyOtherShapeAreRefused() {
        XCTAssertEqual(FlowGlobalGrant(reply: [4, 0, 12]), FlowGlobalGrant(granted: 4, waitNanos: 0, left: 12))
        XCTAssertEqual(FlowGlobalGrant(reply: [0, 2_500, 0])?.waitNanos, 2_500_000)
        XCTAssertEqual(FlowGlobalGrant(reply: [0, .max, 0])?.waitNanos, .max, "saturates")
        XCTAssertNil(FlowGlobalGrant(reply: [1, 0]))
        XCTAssertNil(FlowGlobalGrant(reply: [1, 0, 0, 0]))
        XCTAssertNil(FlowGlobalGrant(reply: [-1, 0, 0]))
    }

    func testStoreKeysSeparateLimitsAndBudgetsAndStaySmall() {
        let id = FlowLimitID(rule: "orders", kind: "global rate", key: "client_ip", ordinal: 1)
        let part = FlowGlobalStoreKey.limitPart(prefix: "herz:flow:", limit: id)
        XCTAssertEqual(part, "herz:flow:orders\u{1F}1\u{1F}client_ip\u{1F}")
        XCTAssertEqual(FlowGlobalStoreKey.key(limitPart: part, value: "10.0.0.1"), part + "10.0.0.1")
        let long = String(repeating: "a", count: 10_000), other = String(repeating: "a", count: 9_999) + "b"
        let hashed = FlowGlobalStoreKey.key(limitPart: part, value: long)
        XCTAssertTrue(hashed.hasPrefix(part + "#"))
        XCTAssertLessThan(hashed.utf8.count, part.utf8.count + 40)
        XCTAssertNotEqual(hashed, FlowGlobalStoreKey.key(limitPart: part, value: other))
        XCTAssertEqual(hashed, FlowGlobalStoreKey.key(limitPart: part, value: long), "stable across kernels")
    }

    func testOverAdmissionBoundFormula() {
        let rate = FlowRate(count: 100, periodNanos: second)
        XCTAssertEqual(FlowGlobalBound.maxAdmitted(rate: rate, burst: 50, windowNanos: 2 * second, instances: 4, leaseCap: 6,
                                                   callTimeoutNanos: 5 * ms), 50 + 200 + 20)   // 200.5 refill, rounded down
        XCTAssertEqual(FlowGlobalBound.maxAdmitted(rate: rate, burst: 50, windowNanos: 0, instances: 4, leaseCap: 1,
                                                   callTimeoutNanos: 0), 50, "no leases: exactly the bucket")
        XCTAssertEqual(FlowGlobalConfiguration().leaseCap(burst: 200), 16)
        XCTAssertEqual(FlowGlobalConfiguration().leaseCap(burst: 50), 6)
        XCTAssertEqual(FlowGlobalConfiguration().leaseCap(burst: 7), 1, "small buckets are not leased")
    }
}
