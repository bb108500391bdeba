import XCTest
@testable import HerzCore

final class RandomBalancerTests: XCTestCase {
    func testSameSeedSameSequence() {
        let a = RandomBalancer(endpoints: LB.endpoints(weights: [3, 2, 1]), random: SplitMix64(seed: 21))
        let b = RandomBalancer(endpoints: LB.endpoints(weights: [3, 2, 1]), random: SplitMix64(seed: 21))
        let sa = (0..<100).map { _ in a.pick(LoadBalancerContext())! }
        let sb = (0..<100).map { _ in b.pick(LoadBalancerContext())! }
        XCTAssertEqual(sa, sb)
    }

    func testHeavyWeightSkew() {
        let lb = RandomBalancer(endpoints: LB.endpoints(weights: [100, 1]), random: SplitMix64(seed: 22))
        let counts = LB.histogram(lb, endpointCount: 2, picks: 20_000)
        XCTAssertEqual(Double(counts[1]) / 20_000, 1.0 / 101, accuracy: 0.003)
    }
}
