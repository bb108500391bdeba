import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

/// The `fault` filter's decision: shares over many draws, header-driven faults, max_active_faults.
final class FaultDeciderTests: XCTestCase {
    private func decide(_ config: FaultFilterConfig, _ headers: [(String, String)] = [], active: Int = 0,
                        seed: UInt64 = 1) -> FaultDecision {
        var random = SplitMix64(seed: seed)
        return FaultDecider.decide(config, headers: HTTPHeaders(headers), activeFaults: active, random: &random)
    }

    /// Over 10,000 seeded decisions each configured share holds within ±1.5 percentage points
    /// (the documented tolerance; 3.5 standard deviations at 50%).
    func testSharesHoldOverTenThousandDecisions() {
        let config = FaultFilterConfig(delay: .init(fixed: .milliseconds(5), percent: Percentage(percent: 30)),
                                       abort: .init(kind: .http(503), percent: Percentage(percent: 12.5)))
        for seed: UInt64 in [1, 42, 0xDEAD_BEEF] {
            var random = SplitMix64(seed: seed)
            var delays = 0, aborts = 0, both = 0
            for _ in 0..<10_000 {
                let decision = FaultDecider.decide(config, headers: HTTPHeaders(), activeFaults: 0, random: &random)
                if decision.delay != nil { delays += 1 }
                if decision.abort != nil { aborts += 1 }
                if decision.delay != nil && decision.abort != nil { both += 1 }
            }
            XCTAssertEqual(Double(delays) / 100, 30, accuracy: 1.5, "seed \(seed)")
            XCTAssertEqual(Double(aborts) / 100, 12.5, accuracy: 1.5, "seed \(seed)")
            XCTAssertEqual(Double(both) / 100, 30 * 0.125, accuracy: 1.5, "independent draws, seed \(seed)")
        }
    }

    func testZeroAndHundredPercentAreExact() {
        let never = FaultFilterConfig(abort: .init(kind: .http(500), percent: .none))
        let always = FaultFilterConfig(delay: .init(fixed: .seconds(1), percent: .all))
        for seed: UInt64 in 0..<1_000 {
            XCTAssertFalse(decide(never, seed: seed).injectsFault)
            XCTAssertEqual(decide(always, seed: seed).delay, .seconds(1))
        }
    }

    func testHeadersIgnoredUnlessEnabled() {
        let headers = [(FaultHeader.delay, "250"), (FaultHeader.abort, "418")]
        XCTAssertFalse(decide(FaultFilterConfig(), headers).injectsFault)
        let enabled = decide(FaultFilterConfig(headersEnabled: true), headers)
        XCTAssertEqual(enabled.delay, .milliseconds(250))
        XCTAssertEqual(enabled.abort, .http(418))
    }

    func testHeaderFaultsReplaceConfiguredOnes() {
        let config = FaultFilterConfig(abort: .init(kind: .http(503)), headersEnabled: true)
        XCTAssertEqual(decide(config, [(FaultHeader.abortGRPC, "14")]).abort, .grpc(14))
        XCTAssertEqual(decide(config, [(FaultHeader.abort, "429")]).abort, .http(429))
        // Invalid values are ignored: the configured abort applies.
        XCTAssertEqual(decide(config, [(FaultHeader.abort, "99")]).abort, .http(503))
        XCTAssertEqual(decide(config, [(FaultHeader.abortGRPC, "17")]).abort, .http(503))
        XCTAssertNil(decide(FaultFilterConfig(headersEnabled: true), [(FaultHeader.delay, "-5")]).delay)
    }

    func testHeaderPercentage() {
        let config = FaultFilterConfig(headersEnabled: true)
        var random = SplitMix64(seed: 7)
        var aborted = 0
        let headers = HTTPHeaders([(FaultHeader.abort, "500"), (FaultHeader.abortPercentage, "20")])
        for _ in 0..<10_000 where FaultDecider.decide(config, headers: headers, activeFaults: 0, random: &random).abort != nil {
            aborted += 1
        }
        XCTAssertEqual(Double(aborted) / 100, 20, accuracy: 1.5)
        XCTAssertNil(decide(config, [(FaultHeader.abort, "500"), (FaultHeader.abortPercentage, "0")]).abort)
    }

    func testMaxActiveFaults() {
        let config = FaultFilterConfig(abort: .init(kind: .http(503)), maxActiveFaults: 2)
        XCTAssertEqual(decide(config, active: 1).abort, .http(503))
        let full = decide(config, active: 2)
        XCTAssertFalse(full.injectsFault)
        XCTAssertTrue(full.skippedMaxActive)
        // No fault due: not counted as skipped.
        let none = FaultFilterConfig(abort: .init(kind: .http(503), percent: .none), maxActiveFaults: 0)
        XCTAssertFalse(decide(none, active: 5).skippedMaxActive)
    }

    func testDisabledOverride() {
        XCTAssertFalse(decide(FaultFilterConfig(abort: .init(kind: .http(503)), disabled: true)).injectsFault)
    }

    func testPercentage() {
        XCTAssertEqual(Percentage(percent: 12.5).partsPerMillion, 125_000)
        XCTAssertEqual(Percentage(percent: 150), .all)
        XCTAssertEqual(Percentage(percent: -1), .none)
        XCTAssertTrue(Percentage.all.admits(.max))
        XCTAssertFalse(Percentage.none.admits(0))
    }

    func testActiveCount() {
        let count = FaultActiveCount()
        count.enter(); count.enter(); count.leave()
        XCTAssertEqual(count.current, 1)
        XCTAssertTrue(count.tryEnter(limit: 2))
        XCTAssertFalse(count.tryEnter(limit: 2))
        XCTAssertTrue(count.tryEnter(limit: nil))
        XCTAssertEqual(count.current, 3)
    }
}
