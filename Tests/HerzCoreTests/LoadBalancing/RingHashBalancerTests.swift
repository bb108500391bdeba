import XCTest
@testable import HerzCore

final class RingHashBalancerTests: XCTestCase {
    func testRingSizeFollowsMinimumAndWeights() {
        // Envoy's scale: the lightest member gets ⌈share · minimum⌉ points, the others in proportion.
        let weighted = RingHashBalancer(endpoints: LB.endpoints(weights: [1, 3]), minimumRingSize: 1024)
        XCTAssertEqual(weighted.ringSize, 1024) // 256 + 768
        let thirds = RingHashBalancer(endpoints: LB.endpoints(weights: [1, 1, 1]), minimumRingSize: 1000)
        XCTAssertEqual(thirds.ringSize, 1002) // 3 × ⌈1000/3⌉
        let small = RingHashBalancer(endpoints: LB.endpoints(weights: [1, 1, 1]), minimumRingSize: 3)
        XCTAssertEqual(small.ringSize, 3)
    }

    func testRetryWalksToTheNextEndpointOnTheRing() {
        let lb = RingHashBalancer(endpoints: LB.endpoints(weights: [1, 1, 1, 1]), random: SplitMix64(seed: 1))
        var keys = SplitMix64(seed: 61)
        for _ in 0..<500 {
            let key = keys.next()
            let first = lb.pick(LoadBalancerContext(hashKey: key))!
            let second = lb.pick(LoadBalancerContext(hashKey: key, excluded: [first]))!
            XCTAssertNotEqual(second, first)
            // Deterministic: every worker retries the same key on the same endpoint.
            XCTAssertEqual(lb.pick(LoadBalancerContext(hashKey: key, excluded: [first])), second)
            let third = lb.pick(LoadBalancerContext(hashKey: key, excluded: [first, second]))!
            XCTAssertFalse([first, second].contains(third))
        }
    }
}
