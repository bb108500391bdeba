import XCTest
@testable import HerzCore

final class SubsetLoadBalancerTests: XCTestCase {
    /// 0: v1/us, 1: v1/eu, 2: v2/us, 3: v2/eu, 4: no metadata
    private let metadata: [[String: String]] = [
        ["version": "v1", "region": "us"], ["version": "v1", "region": "eu"],
        ["version": "v2", "region": "us"], ["version": "v2", "region": "eu", "canary": "true"], [:],
    ]

    private func make(_ fallback: SubsetConfig.Fallback, defaultSubset: [String: String] = [:],
                      policy: ClusterConfig.LBPolicy = .roundRobin) -> SubsetLoadBalancer {
        let subset = SubsetConfig(selectors: [["version"], ["version", "region"]], fallback: fallback,
                                  defaultSubset: defaultSubset)
        let cluster = LB.cluster(policy, weights: [1, 1, 1, 1, 1], metadata: metadata, subset: subset)
        return makeLoadBalancer(for: cluster, random: SplitMix64(seed: 41)) as! SubsetLoadBalancer
    }

    private func picked(_ lb: SubsetLoadBalancer, _ match: [String: String], n: Int = 200) -> Set<Int?> {
        Set((0..<n).map { _ in lb.pick(LoadBalancerContext(hashKey: nil), metadataMatch: match) })
    }

    func testSubsetsAreBuiltPerValueCombination() {
        // version: v1, v2; version+region: v1/us, v1/eu, v2/us, v2/eu
        XCTAssertEqual(make(.noFallback).subsetCount, 6)
    }

    func testSelection() {
        let lb = make(.noFallback)
        let cases: [([String: String], Set<Int?>)] = [
            (["version": "v1"], [0, 1]),
            (["version": "v2"], [2, 3]),
            (["version": "v2", "region": "us"], [2]),
            (["region": "eu", "version": "v1"], [1]),
            ([:], [0, 1, 2, 3, 4]),
        ]
        for (match, expected) in cases {
            XCTAssertEqual(picked(lb, match), expected, "\(match)")
        }
    }

    func testFallbacks() {
        let cases: [(SubsetConfig.Fallback, [String: String], [String: String], Set<Int?>)] = [
            // value not present in any endpoint
            (.noFallback, [:], ["version": "v3"], [nil]),
            (.anyEndpoint, [:], ["version": "v3"], [0, 1, 2, 3, 4]),
            (.defaultSubset, ["version": "v2"], ["version": "v3"], [2, 3]),
            (.defaultSubset, [:], ["version": "v3"], [0, 1, 2, 3, 4]),
            (.defaultSubset, ["version": "v9"], ["version": "v3"], [nil]),
            // keys that no selector names (region alone, canary)
            (.noFallback, [:], ["region": "us"], [nil]),
            (.anyEndpoint, [:], ["canary": "true"], [0, 1, 2, 3, 4]),
            (.defaultSubset, ["region": "eu"], ["region": "us"], [1, 3]),
        ]
        for (fallback, defaultSubset, match, expected) in cases {
            let lb = make(fallback, defaultSubset: defaultSubset)
            XCTAssertEqual(picked(lb, match), expected, "\(fallback) default=\(defaultSubset) match=\(match)")
        }
    }

    func testUnavailableSubsetUsesFallback() {
        let noFallback = make(.noFallback)
        let any = make(.anyEndpoint)
        for lb in [noFallback, any] { lb.updateAvailability([false, false, true, true, true]) }
        XCTAssertEqual(picked(noFallback, ["version": "v1"]), [nil])
        XCTAssertEqual(picked(any, ["version": "v1"]), [2, 3, 4])
        XCTAssertEqual(picked(any, ["version": "v2"]), [2, 3])
    }

    func testLeastRequestLoadIsSharedAcrossSubsets() {
        let lb = make(.noFallback, policy: .leastRequest)
        for _ in 0..<20 { lb.requestStarted(0) }
        var counts = [0, 0]
        for _ in 0..<2000 { counts[lb.pick(LoadBalancerContext(), metadataMatch: ["version": "v1"])!] += 1 }
        XCTAssertLessThan(counts[0], 700, "\(counts)") // only when both draws hit endpoint 0
        for _ in 0..<20 { lb.requestFinished(0) }
        counts = [0, 0]
        for _ in 0..<2000 { counts[lb.pick(LoadBalancerContext(), metadataMatch: ["version": "v1"])!] += 1 }
        XCTAssertGreaterThan(counts[0], 800, "\(counts)")
    }
}
