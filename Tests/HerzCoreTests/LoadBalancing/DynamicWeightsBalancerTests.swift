import XCTest
@testable import HerzCore

/// Balancers under dynamic weights (`updateWeights`): the ones that follow weights follow the new
/// ones, and no weight ever makes an unavailable (ejected / unhealthy) endpoint pickable.
final class DynamicWeightsBalancerTests: XCTestCase {
    func testRoundRobinFollowsNewWeightsExactly() {
        let lb = RoundRobinBalancer(endpoints: LB.endpoints(weights: [1, 1, 1]), randomizeStart: false)
        lb.updateWeights([80, 10, 10])
        XCTAssertEqual(LB.histogram(lb, endpointCount: 3, picks: 1_000), [800, 100, 100])
        lb.updateWeights([0, 1, 1])                                         // below 1 counts as 1
        XCTAssertEqual(LB.histogram(lb, endpointCount: 3, picks: 300), [100, 100, 100])
    }

    func testRandomLeastRequestAndSubsetFollowNewWeights() {
        let subset = SubsetConfig(selectors: [["v"]], fallback: .anyEndpoint, defaultSubset: [:])
        let balancers: [(String, any LoadBalancer)] = [
            ("random", RandomBalancer(endpoints: LB.endpoints(weights: [1, 1]), random: SplitMix64(seed: 1))),
            ("least_request", LeastRequestBalancer(endpoints: LB.endpoints(weights: [1, 1]), random: SplitMix64(seed: 2))),
            ("subset", makeLoadBalancer(for: LB.cluster(.random, weights: [1, 1], metadata: [["v": "1"], ["v": "1"]], subset: subset),
                                        random: SplitMix64(seed: 3))),
        ]
        for (name, lb) in balancers {
            lb.updateWeights([90, 10])
            LB.assertProportional(LB.histogram(lb, endpointCount: 2, picks: 20_000), weights: [90, 10], tolerance: 0.1, name)
        }
    }

    func testHashBalancersKeepTheirConfiguredWeights() {
        for policy in [ClusterConfig.LBPolicy.ringHash, .maglev] {
            let lb = makeLoadBalancer(for: LB.cluster(policy, weights: [1, 1]), random: SplitMix64(seed: 4))
            let before = LB.histogram(lb, endpointCount: 2, picks: 5_000, seed: 9)
            lb.updateWeights([1_000, 1])
            XCTAssertEqual(LB.histogram(lb, endpointCount: 2, picks: 5_000, seed: 9), before, "\(policy)")
        }
    }

    /// Property: whatever sequence of weight and availability changes, a pick never returns an
    /// endpoint that is unavailable — even when it has by far the highest weight — unless nothing
    /// is available (then nil).
    func testUnavailableEndpointIsNeverPickedWhateverItsWeight() {
        var random = SplitMix64(seed: 2024)
        let policies: [ClusterConfig.LBPolicy] = [.roundRobin, .leastRequest, .random, .ringHash, .maglev]
        for round in 0..<60 {
            let n = 2 + Int(random.next(below: 6))
            let policy = policies[round % policies.count]
            let lb = makeLoadBalancer(for: LB.cluster(policy, weights: (0..<n).map { _ in 1 + Int(random.next(below: 5)) }),
                                      random: SplitMix64(seed: random.next()))
            for _ in 0..<40 {
                var available = (0..<n).map { _ in random.next(below: 3) != 0 }
                if random.next(below: 10) == 0 { available = Array(repeating: false, count: n) }
                var weights = (0..<n).map { _ in 1 + Int(random.next(below: 100)) }
                // The heaviest weight goes to an unavailable endpoint when there is one.
                if let ejected = available.firstIndex(of: false) { weights[ejected] = 1_000_000 }
                if random.next(below: 2) == 0 {
                    lb.updateAvailability(available); lb.updateWeights(weights)
                } else {
                    lb.updateWeights(weights); lb.updateAvailability(available)
                }
                for _ in 0..<50 {
                    let excluded = random.next(below: 4) == 0 ? [Int(random.next(below: UInt64(n)))] : []
                    let picked = lb.pick(LoadBalancerContext(hashKey: random.next(), excluded: excluded))
                    if available.contains(true) {
                        guard let picked else { return XCTFail("\(policy): nothing picked with \(available)") }
                        XCTAssertTrue(available[picked], "\(policy) picked unavailable \(picked) of \(available), weights \(weights)")
                    } else {
                        XCTAssertNil(picked, "\(policy) picked with nothing available")
                    }
                }
            }
        }
    }
}
