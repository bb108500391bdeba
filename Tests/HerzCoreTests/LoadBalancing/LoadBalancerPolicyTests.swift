import XCTest
@testable import HerzCore

/// Properties every policy must have, as one table over `lb_policy`.
final class LoadBalancerPolicyTests: XCTestCase {
    /// Relative tolerance on weighted shares over 10k picks (random draws: ~3.5σ for a 1/7 share).
    /// Hash-based policies carry the ring's or table's own imbalance on top of sampling noise.
    private let table: [(ClusterConfig.LBPolicy, Double)] = [
        (.roundRobin, 0.01), (.random, 0.12), (.leastRequest, 0.12), (.ringHash, 0.15), (.maglev, 0.12),
    ]

    func testWeightedDistribution() {
        for (policy, tolerance) in table {
            for weights in [[1, 1, 1, 1], [5, 1, 1], [1, 2, 3, 4]] {
                let lb = makeLoadBalancer(for: LB.cluster(policy, weights: weights), random: SplitMix64(seed: 1))
                let counts = LB.histogram(lb, endpointCount: weights.count)
                LB.assertProportional(counts, weights: weights, tolerance: tolerance, "\(policy)")
            }
        }
    }

    func testUnavailableEndpointsAreSkipped() {
        for (policy, tolerance) in table {
            let weights = [1, 1, 1, 1]
            let lb = makeLoadBalancer(for: LB.cluster(policy, weights: weights), random: SplitMix64(seed: 2))
            lb.updateAvailability([true, false, true, false])
            let counts = LB.histogram(lb, endpointCount: 4)
            XCTAssertEqual(counts[1], 0, "\(policy)")
            XCTAssertEqual(counts[3], 0, "\(policy)")
            LB.assertProportional([counts[0], counts[2]], weights: [1, 1], tolerance: tolerance, "\(policy)")

            lb.updateAvailability([true, true, true, true])
            XCTAssertTrue(LB.histogram(lb, endpointCount: 4).allSatisfy { $0 > 0 }, "\(policy) recovers")

            lb.updateAvailability([false, false, false, false])
            XCTAssertNil(lb.pick(LoadBalancerContext(hashKey: 42)), "\(policy)")
            XCTAssertNil(lb.pick(LoadBalancerContext()), "\(policy)")
        }
    }

    func testInitialAvailabilityIsRespected() {
        for (policy, _) in table {
            let lb = makeLoadBalancer(for: LB.cluster(policy, weights: [1, 1, 1]), available: [false, true, false],
                                      random: SplitMix64(seed: 3))
            XCTAssertEqual(LB.histogram(lb, endpointCount: 3, picks: 500), [0, 500, 0], "\(policy)")
        }
    }

    func testRetriesAvoidExcludedEndpoints() {
        for (policy, _) in table {
            let lb = makeLoadBalancer(for: LB.cluster(policy, weights: [1, 1, 1]), random: SplitMix64(seed: 4))
            let counts = LB.histogram(lb, endpointCount: 3, picks: 2000, excluded: [0])
            XCTAssertEqual(counts[0], 0, "\(policy): \(counts)")
            XCTAssertGreaterThan(counts[1], 0, "\(policy)")
            XCTAssertGreaterThan(counts[2], 0, "\(policy)")

            let onlyTwo = LB.histogram(lb, endpointCount: 3, picks: 500, excluded: [2, 0, 2])
            XCTAssertEqual(onlyTwo, [0, 500, 0], "\(policy)")

            // Everything excluded: still answer rather than fail the retry.
            let all = LB.histogram(lb, endpointCount: 3, picks: 300, excluded: [0, 1, 2])
            XCTAssertEqual(all.reduce(0, +), 300, "\(policy)")

            // Excluded + unavailable: the only other available endpoint.
            lb.updateAvailability([true, false, true])
            XCTAssertEqual(LB.histogram(lb, endpointCount: 3, picks: 300, excluded: [0]), [0, 0, 300], "\(policy)")
            // Only the excluded one is available: it is returned.
            lb.updateAvailability([true, false, false])
            XCTAssertEqual(LB.histogram(lb, endpointCount: 3, picks: 300, excluded: [0]), [300, 0, 0], "\(policy)")
        }
    }

    func testEmptyClusterPicksNothing() {
        for (policy, _) in table {
            let lb = makeLoadBalancer(for: LB.cluster(policy, weights: []), random: SplitMix64(seed: 5))
            XCTAssertNil(lb.pick(LoadBalancerContext(hashKey: 1)), "\(policy)")
            lb.updateAvailability([])
            XCTAssertNil(lb.pick(LoadBalancerContext()), "\(policy)")
        }
    }

    func testFactoryBuildsThePolicyBalancer() {
        let expected: [(ClusterConfig.LBPolicy, Any.Type)] = [
            (.roundRobin, RoundRobinBalancer.self), (.leastRequest, LeastRequestBalancer.self),
            (.random, RandomBalancer.self), (.ringHash, RingHashBalancer.self), (.maglev, MaglevBalancer.self),
        ]
        for (policy, type) in expected {
            let lb = makeLoadBalancer(for: LB.cluster(policy, weights: [1]), random: SplitMix64(seed: 0))
            XCTAssertTrue(Swift.type(of: lb) == type, "\(policy)")
        }
        let subset = LB.cluster(.random, weights: [1], subset: SubsetConfig(selectors: [["v"]]))
        XCTAssertTrue(makeLoadBalancer(for: subset) is SubsetLoadBalancer)
    }
}
