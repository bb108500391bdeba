import XCTest
@testable import HerzCore

final class FlowControlTokenBucketTests: XCTestCase {
    private let second = FlowTest.second, ms = FlowTest.millisecond

    private func bucket(_ count: Int, per period: UInt64, burst: Int, now: UInt64 = 0) -> FlowTokenBucket {
        FlowTokenBucket(rate: FlowRate(count: count, periodNanos: period), burst: burst, now: now)
    }

    func testStartsFullThenRefillsContinuously() {
        var tokens = bucket(100, per: second, burst: 2)
        XCTAssertEqual(tokens.acquire(now: 0), .admit)
        XCTAssertEqual(tokens.acquire(now: 0), .admit)
        XCTAssertEqual(tokens.acquire(now: 0), .limit(retryAfterNanos: 10 * ms))
        XCTAssertEqual(tokens.acquire(now: 4 * ms), .limit(retryAfterNanos: 6 * ms))
        XCTAssertEqual(tokens.acquire(now: 10 * ms), .admit)
        XCTAssertEqual(tokens.tokens(now: 10 * ms), 0)
        XCTAssertEqual(tokens.tokens(now: 10 * second), 2, "capped at burst")
    }

    func testArithmeticIsExactForRatesThatDoNotDivideTheirPeriod() {
        var tokens = bucket(3, per: second, burst: 1)
        XCTAssertEqual(tokens.acquire(now: 0), .admit)
        XCTAssertEqual(tokens.acquire(now: 333_333_333), .limit(retryAfterNanos: 1))   // 1/3 s is 333,333,333.3 ns
        XCTAssertEqual(tokens.acquire(now: 333_333_334), .admit)                       // the excess above one token is capped away
        XCTAssertEqual(tokens.acquire(now: 666_666_667), .limit(retryAfterNanos: 1))
        XCTAssertEqual(tokens.acquire(now: 666_666_668), .admit)
        XCTAssertEqual(tokens.acquire(now: 1_000_000_001), .limit(retryAfterNanos: 1))
        XCTAssertEqual(tokens.acquire(now: 1_000_000_002), .admit)
    }

    func testRetryAfterHeaderRoundsUpToWholeSeconds() {
        XCTAssertEqual(FlowRetryAfter.auto.seconds(waitNanos: 10 * ms), 1)
        XCTAssertEqual(FlowRetryAfter.auto.seconds(waitNanos: 2 * second), 2)
        XCTAssertEqual(FlowRetryAfter.auto.seconds(waitNanos: 2 * second + 1), 3)
        XCTAssertEqual(FlowRetryAfter.auto.seconds(waitNanos: .max), Int(UInt64.max / second) + 1)
        XCTAssertNil(FlowRetryAfter.none.seconds(waitNanos: second))
        XCTAssertEqual(FlowRetryAfter.fixed(seconds: 30).seconds(waitNanos: second), 30)
    }

    func testDelayReservesTokensInOrder() {
        var tokens = bucket(10, per: second, burst: 1)
        XCTAssertEqual(tokens.acquire(now: 0, maxDelayNanos: 250 * ms), .admit)
        XCTAssertEqual(tokens.acquire(now: 0, maxDelayNanos: 250 * ms), .admitAfter(nanos: 100 * ms))
        XCTAssertEqual(tokens.acquire(now: 0, maxDelayNanos: 250 * ms), .admitAfter(nanos: 200 * ms))
        XCTAssertEqual(tokens.acquire(now: 0, maxDelayNanos: 250 * ms), .limit(retryAfterNanos: 300 * ms))
        XCTAssertEqual(tokens.tokens(now: 0), -2, "two reserved tokens are debt")
        XCTAssertEqual(tokens.waitNanos(now: 150 * ms), 150 * ms)
    }

    func testPristineOnlyWhenFullAndReconfigureKeepsTokens() {
        var tokens = bucket(1, per: second, burst: 5)
        XCTAssertTrue(tokens.isPristine(now: 0))
        _ = tokens.acquire(now: 0)
        XCTAssertFalse(tokens.isPristine(now: 0))
        XCTAssertTrue(tokens.isPristine(now: second))
        _ = (0..<4).map { _ in tokens.acquire(now: second) }
        XCTAssertEqual(tokens.tokens(now: second), 1)
        let faster = tokens.reconfigured(to: .init(rate: FlowRate(count: 10, periodNanos: second), burst: 3), now: second)
        XCTAssertEqual(faster.tokens(now: second), 1, "the token count survives a new rate")
        XCTAssertEqual(faster.tokens(now: second + 100 * ms), 2)
        let smaller = tokens.reconfigured(to: .init(rate: FlowRate(count: 1, periodNanos: second), burst: 1), now: 100 * second)
        XCTAssertEqual(smaller.tokens(now: 100 * second), 1, "capped at the new burst")
    }

    func testExtremeTimesAndRatesNeverTrap() {
        var tokens = bucket(1_000_000_000, per: ms, burst: 1_000_000_000)
        XCTAssertEqual(tokens.acquire(now: .max), .admit)
        XCTAssertEqual(tokens.acquire(now: 5), .admit, "time going backwards is treated as no time passing")
        var slow = bucket(1, per: 24 * 3_600 * second, burst: 1)
        XCTAssertEqual(slow.acquire(now: 0), .admit)
        XCTAssertEqual(slow.acquire(now: 0, maxDelayNanos: .max), .admitAfter(nanos: 24 * 3_600 * second))
        XCTAssertFalse(FlowTokenBucket.canRepresent(rate: FlowRate(count: 1, periodNanos: 3_600 * second), burst: 1_000_000_000))
        XCTAssertTrue(FlowTokenBucket.canRepresent(rate: FlowRate(count: 1_000_000_000, periodNanos: ms), burst: 1_000_000_000))
    }

    /// Over any interval [t_i, t_j], admissions never exceed burst + rate·(t_j − t_i), for random
    /// rates, bursts and arrival sequences — and a saturating load gets at least burst + rate·T − 1.
    func testNeverAdmitsMoreThanBurstPlusRateTimesTime() {
        var random = SplitMix64(seed: 0xB0C7)
        for round in 0..<60 {
            let count = Int(random.next(below: 50)) + 1
            let period = [ms, 7 * ms, second, 3 * second + 1][Int(random.next(below: 4))]
            let burst = Int(random.next(below: 20)) + 1
            let delay = random.next(below: 3) == 0 ? random.next(below: period) : 0
            var tokens = bucket(count, per: period, burst: burst)
            var now: UInt64 = 0
            var admitted: [UInt64] = []
            for _ in 0..<400 {
                now += random.next(below: 4) == 0 ? random.next(below: 3 * period / UInt64(count) + 1) : 0
                switch tokens.acquire(now: now, maxDelayNanos: delay) {
                case .admit: admitted.append(now)
                case .admitAfter(let wait): admitted.append(now + wait)
                case .limit: break
                }
            }
            admitted.sort()
            for i in admitted.indices {
                for j in i..<admitted.count {
                    let allowed = (Double(burst) + Double(count) * Double(admitted[j] - admitted[i]) / Double(period)).rounded(.down)
                    if Double(j - i + 1) > allowed {
                        XCTFail("round \(round): \(j - i + 1) admitted in \(admitted[j] - admitted[i]) ns, bound \(allowed) (\(count)/\(period)ns, burst \(burst), delay \(delay))")
                        return
                    }
                }
            }
        }
    }

    /// A load that asks again within 1 ms of every refusal gets every token but the last one
    /// (burst ≥ 2, so a late ask loses nothing; with burst 1 the excess above one token is capped
    /// away by design).
    func testSaturatingLoadGetsTheWholeBudget() {
        var random = SplitMix64(seed: 0x5A7)
        for _ in 0..<20 {
            let count = Int(random.next(below: 50)) + 1, burst = Int(random.next(below: 20)) + 2
            var tokens = bucket(count, per: second, burst: burst)
            var admittedCount = 0
            var now: UInt64 = 0
            while now <= 10 * second {
                if tokens.acquire(now: now) == .admit { admittedCount += 1 } else { now += random.next(below: ms) + 1 }
            }
            XCTAssertGreaterThanOrEqual(admittedCount, burst + count * 10 - 1)
            XCTAssertLessThanOrEqual(admittedCount, burst + count * 11)
        }
    }
}
