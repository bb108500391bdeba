import NIOHTTP1
import XCTest
@testable import HerzCore

final class ClusterSelectorTests: XCTestCase {
    func route(_ action: RouteAction) -> RouteEntry { RouteEntry(name: "r", match: RouteMatch(path: .prefix("/")), action: action) }

    func testPlainCluster() {
        XCTAssertEqual(selectCluster(for: route(.cluster("a")), headers: [:], random: 12345), "a")
    }

    func testClusterHeader() {
        let r = route(.clusterHeader("x-cluster"))
        XCTAssertEqual(selectCluster(for: r, headers: ["X-Cluster": "blue"], random: 0), "blue")
        XCTAssertNil(selectCluster(for: r, headers: [:], random: 0))
        XCTAssertNil(selectCluster(for: r, headers: ["x-cluster": ""], random: 0))
    }

    func testWeightedBoundaries() {
        let r = route(.weightedClusters([WeightedCluster(name: "a", weight: 90), WeightedCluster(name: "b", weight: 10)]))
        let table: [(UInt64, String)] = [(0, "a"), (89, "a"), (90, "b"), (99, "b"), (100, "a"), (189, "a"), (190, "b"), (UInt64.max, "a")]   // max % 100 == 15
        for (random, expected) in table {
            XCTAssertEqual(selectCluster(for: r, headers: [:], random: random), expected, "random \(random)")
        }
    }

    func testWeightedDistributionFollowsWeights() {
        let r = route(.weightedClusters([WeightedCluster(name: "a", weight: 1), WeightedCluster(name: "b", weight: 3),
                                         WeightedCluster(name: "c", weight: 6)]))
        var counts: [String: Int] = [:]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15   // splitmix64: deterministic pseudo-random inputs
        for _ in 0..<100_000 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            counts[selectCluster(for: r, headers: [:], random: z)!, default: 0] += 1
        }
        XCTAssertEqual(Double(counts["a"]!) / 100_000, 0.1, accuracy: 0.01)
        XCTAssertEqual(Double(counts["b"]!) / 100_000, 0.3, accuracy: 0.01)
        XCTAssertEqual(Double(counts["c"]!) / 100_000, 0.6, accuracy: 0.01)
        // Every residue maps to exactly its weight's share.
        var exact: [String: Int] = [:]
        for random in 0..<UInt64(10) { exact[selectCluster(for: r, headers: [:], random: random)!, default: 0] += 1 }
        XCTAssertEqual(exact, ["a": 1, "b": 3, "c": 6])
    }
}
