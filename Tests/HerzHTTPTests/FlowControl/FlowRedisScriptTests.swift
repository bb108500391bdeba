import Foundation
import HerzCore
import NIOCore
import XCTest

@testable import HerzHTTP

/// ``FlowGlobalScript`` in a real `redis-server`: exact grants, `need`, refill on the server's
/// clock, the burst cap, expiry of idle buckets, rescaling after a rate change, numbers near 2⁵³,
/// a clock that steps back, and a key of another type.
final class FlowRedisScriptTests: XCTestCase {
    private var server: RedisServerProcess!
    private var redis: FlowRedisTestClient!

    override func setUpWithError() throws {
        server = try RedisServerProcess()
        redis = FlowRedisTestClient(port: server.port)
    }

    override func tearDown() {
        redis = nil
        server = nil
    }

    private func bucket(_ count: Int, per periodNanos: UInt64, burst: Int) throws -> FlowGlobalBucket {
        try XCTUnwrap(FlowGlobalBucket(rate: FlowRate(count: count, periodNanos: periodNanos), burst: burst))
    }

    private let hour: UInt64 = 3_600_000_000_000, second: UInt64 = 1_000_000_000

    func testGrantsExactlyWhatTheBucketHolds() throws {
        let slow = try bucket(1, per: hour, burst: 10)
        XCTAssertEqual(try redis.take("a", slow, want: 4), [4, 0, 6])
        XCTAssertEqual(try redis.take("a", slow, want: 8, need: 7)[0...0], [0], "fewer than need: nothing")
        XCTAssertEqual(try redis.take("a", slow, want: 8, need: 6), [6, 0, 0], "need met: as many as there are")
        let refused = try redis.take("a", slow, want: 1)
        XCTAssertEqual(refused[0], 0)
        XCTAssertTrue((3_599_000_000...3_600_000_000).contains(refused[1]), "one token in an hour: \(refused[1]) µs")
        XCTAssertEqual(try redis.take("b", slow, want: 100), [10, 0, 0], "another key has its own bucket, capped at burst")
    }

    func testRefillsOnTheServersClockAndCapsAtBurst() throws {
        let fast = try bucket(1_000, per: second, burst: 1_000)
        XCTAssertEqual(try redis.take("fast", fast, want: 1_000), [1_000, 0, 0])
        let start = Date()
        usleep(100_000)
        let granted = try redis.take("fast", fast, want: 1_000)[0]
        let elapsedMillis = Int64(Date().timeIntervalSince(start) * 1_000) + 2
        XCTAssertGreaterThanOrEqual(granted, 99, "≈ 1 token per ms slept")
        XCTAssertLessThanOrEqual(granted, elapsedMillis)
        let small = try bucket(1_000, per: second, burst: 5)
        XCTAssertEqual(try redis.take("small", small, want: 100)[0], 5)
        usleep(50_000)
        XCTAssertEqual(try redis.take("small", small, want: 100)[0], 5, "never more than the burst")
    }

    func testIdleBucketsExpireAndComeBackFull() throws {
        let small = try bucket(1_000, per: second, burst: 5)
        XCTAssertEqual(small.idleExpiryMillis, 6)
        _ = try redis.take("idle", small, want: 5)
        let ttl = try redis.call("PTTL", "idle")
        guard case .success(.integer(let millis)) = ttl else { return XCTFail("\(ttl)") }
        XCTAssertTrue((1...6).contains(millis), "PTTL \(millis)")
        guard case .success(.array(let fields?)) = try redis.call("HGETALL", "idle") else { return XCTFail("no hash") }
        XCTAssertEqual(fields.count, 6)
        XCTAssertTrue(fields.compactMap(\.string).allSatisfy { $0.allSatisfy { $0.isNumber || $0.isLetter } }, "integers, no exponent")
        usleep(50_000)
        XCTAssertEqual(try redis.call("EXISTS", "idle"), .success(.integer(0)))
        XCTAssertEqual(try redis.take("idle", small, want: 100)[0], 5)
    }

    func testANewRateKeepsTheTokenCount() throws {
        _ = try redis.take("r", try bucket(1, per: hour, burst: 10), want: 4)
        let faster = try bucket(2, per: hour, burst: 10)
        XCTAssertEqual(try redis.take("r", faster, want: 100)[0], 6, "6 tokens left, whatever the unit")
    }

    func testNumbersNearTwoToTheFiftyThreeStayExact() throws {
        let huge = try bucket(1, per: hour, burst: 2_000_000)
        XCTAssertEqual(huge.capacity, 7_200_000_000_000_000)
        XCTAssertEqual(try redis.take("huge", huge, want: 1_999_999), [1_999_999, 0, 1])
        XCTAssertEqual(try redis.take("huge", huge, want: 5), [1, 0, 0])
        XCTAssertEqual(try redis.take("huge", huge, want: 1)[0], 0)
    }

    func testAClockThatStepsBackCountsAsNoTimePassing() throws {
        let fast = try bucket(1_000, per: second, burst: 1_000)     // idle for 1 s before it expires
        XCTAssertEqual(try redis.take("clock", fast, want: 1_000)[0], 1_000)
        guard case .success(.array(let time?)) = try redis.call("TIME"), let seconds = time.first?.string.flatMap(Int64.init) else {
            return XCTFail("TIME")
        }
        let future = String((seconds + 60) * 1_000_000)
        XCTAssertEqual(try redis.call("HSET", "clock", "t", future), .success(.integer(0)))
        usleep(20_000)
        XCTAssertEqual(try redis.take("clock", fast, want: 1_000)[0], 0, "no refill (20 tokens otherwise) before the recorded time")
    }

    func testAKeyOfAnotherTypeIsAnErrorReplyNotACrash() throws {
        _ = try redis.call("SET", "str", "x")
        let result = try redis.run { $0.evalScript(keys: ["str"], arguments: ["1", "1", "1", "1", "1", "1"], completion: $1) }
        guard case .failure(.errorReply(let message)) = result else { return XCTFail("\(result)") }
        XCTAssertTrue(message.contains("WRONGTYPE"), message)
        XCTAssertEqual(FlowGlobalLimiter.outcome(result), .failed(.badReply))
    }
}
