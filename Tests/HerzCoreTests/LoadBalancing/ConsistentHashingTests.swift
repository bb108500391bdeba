import XCTest
@testable import HerzCore

/// Stickiness and minimal disruption for the two consistent-hashing policies.
final class ConsistentHashingTests: XCTestCase {
    private let keyCount = 10_000

    private func keys(seed: UInt64 = 31) -> [UInt64] {
        var g = SplitMix64(seed: seed)
        return (0..<keyCount).map { _ in g.next() }
    }

    private func assignment(_ lb: any LoadBalancer, _ keys: [UInt64]) -> [Int] {
        keys.map { lb.pick(LoadBalancerContext(hashKey: $0))! }
    }

    private func make(_ policy: ClusterConfig.LBPolicy, weights: [Int], seed: UInt64 = 0) -> any LoadBalancer {
        makeLoadBalancer(for: LB.cluster(policy, weights: weights), random: SplitMix64(seed: seed))
    }

    func testSameKeySameEndpointOnEveryWorker() {
        for policy in [ClusterConfig.LBPolicy.ringHash, .maglev] {
            let ks = keys()
            // Different seeds stand for different workers: the mapping must not depend on them.
            let a = assignment(make(policy, weights: [1, 2, 3, 1], seed: 1), ks)
            let b = assignment(make(policy, weights: [1, 2, 3, 1], seed: 2), ks)
            XCTAssertEqual(a, b, "\(policy)")
            let lb = make(policy, weights: [1, 2, 3, 1])
            XCTAssertEqual(assignment(lb, ks), assignment(lb, ks), "\(policy)")
        }
    }

    /// Removing 1 of N endpoints (unavailable, or gone from config): the fraction of keys that move,
    /// split into keys the removed endpoint owned and keys that move between survivors.
    ///
    /// Ring hash, endpoint unavailable: its points are skipped, nothing else moves (0).
    /// Ring hash, endpoint removed from config: Envoy's scale gives each survivor ⌈min/(N-1)⌉ points
    /// instead of ⌈min/N⌉, and the new points take some keys from other survivors (~7% at N=10).
    /// Maglev: the table is refilled; survivors keep most slots (bound ≤ 1.5/N).
    func testMinimalDisruptionWhenAnEndpointIsRemoved() {
        let n = 10
        let removed = 3
        let cases: [(ClusterConfig.LBPolicy, Double, Double)] = [
            (.ringHash, 0.0, 1.0 / Double(n)), (.maglev, 1.5 / Double(n), 1.5 / Double(n)),
        ]
        for (policy, maxOthersMovedUnavailable, maxOthersMovedRemoved) in cases {
            let ks = keys()
            let lb = make(policy, weights: Array(repeating: 1, count: n))
            let before = assignment(lb, ks)

            // (a) the endpoint becomes unavailable
            var available = Array(repeating: true, count: n)
            available[removed] = false
            lb.updateAvailability(available)
            let afterUnavailable = assignment(lb, ks)

            // (b) the endpoint is removed from the config (indices above it shift down by one)
            var endpoints = LB.endpoints(weights: Array(repeating: 1, count: n))
            endpoints.remove(at: removed)
            var cluster = LB.cluster(policy, weights: [])
            cluster.endpoints = endpoints
            let afterRemoval = assignment(makeLoadBalancer(for: cluster), ks).map { $0 >= removed ? $0 + 1 : $0 }

            for (label, after, maxOthersMoved) in [("unavailable", afterUnavailable, maxOthersMovedUnavailable),
                                                   ("removed", afterRemoval, maxOthersMovedRemoved)] {
                var owned = 0, others = 0
                for (b, a) in zip(before, after) where a != b {
                    if b == removed { owned += 1 } else { others += 1 }
                }
                let ownedShare = Double(before.filter { $0 == removed }.count)
                XCTAssertEqual(Double(owned), ownedShare, "\(policy) \(label): all of its keys move")
                XCTAssertFalse(after.contains(removed), "\(policy) \(label)")
                let othersFraction = Double(others) / Double(keyCount)
                XCTAssertLessThanOrEqual(othersFraction, maxOthersMoved, "\(policy) \(label)")
                let totalFraction = Double(owned + others) / Double(keyCount)
                XCTAssertLessThan(totalFraction, 1.0 / Double(n) + maxOthersMoved + 0.05,
                                  "\(policy) \(label): moved \(totalFraction)")
            }

            // Bringing it back restores the original mapping exactly.
            lb.updateAvailability(Array(repeating: true, count: n))
            XCTAssertEqual(assignment(lb, ks), before, "\(policy)")
        }
    }

    func testAddingAnEndpointMovesAboutOneNth() {
        for policy in [ClusterConfig.LBPolicy.ringHash, .maglev] {
            let ks = keys()
            let before = assignment(make(policy, weights: Array(repeating: 1, count: 9)), ks)
            let after = assignment(make(policy, weights: Array(repeating: 1, count: 10)), ks)
            let moved = Double(zip(before, after).filter { $0 != $1 }.count) / Double(keyCount)
            XCTAssertLessThan(moved, 0.1 * 1.5 + 0.05, "\(policy): \(moved)")
            XCTAssertGreaterThan(moved, 0.05, "\(policy): \(moved)")
        }
    }

    func testNilHashKeyPicksRandomly() {
        for policy in [ClusterConfig.LBPolicy.ringHash, .maglev] {
            let lb = make(policy, weights: [1, 1, 1, 1], seed: 9)
            var counts = [0, 0, 0, 0]
            for _ in 0..<4000 { counts[lb.pick(LoadBalancerContext())!] += 1 }
            XCTAssertTrue(counts.allSatisfy { $0 > 700 }, "\(policy): \(counts)")
        }
    }
}
