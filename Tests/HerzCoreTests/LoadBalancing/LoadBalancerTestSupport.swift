import XCTest
@testable import HerzCore

enum LB {
    static func endpoints(weights: [Int], metadata: [[String: String]]? = nil) -> [EndpointConfig] {
        weights.enumerated().map { i, w in
            EndpointConfig(address: HostPort(host: "10.0.\(i / 250).\(i % 250 + 1)", port: 8080), weight: w,
                           metadata: metadata?[i] ?? [:])
        }
    }

    static func cluster(_ policy: ClusterConfig.LBPolicy, weights: [Int], metadata: [[String: String]]? = nil,
                        subset: SubsetConfig? = nil) -> ClusterConfig {
        ClusterConfig(name: "c", lbPolicy: policy, endpoints: endpoints(weights: weights, metadata: metadata),
                      subset: subset, maglevTableSize: 65537)
    }

    /// Picks `n` times (random hash keys for hash-based policies) and counts per endpoint.
    static func histogram(_ lb: any LoadBalancer, endpointCount: Int, picks n: Int = 10_000, seed: UInt64 = 7,
                          excluded: [Int] = []) -> [Int] {
        var keys = SplitMix64(seed: seed)
        var counts = [Int](repeating: 0, count: endpointCount)
        for _ in 0..<n {
            guard let e = lb.pick(LoadBalancerContext(hashKey: keys.next(), excluded: excluded)) else {
                XCTFail("no endpoint picked")
                return counts
            }
            counts[e] += 1
        }
        return counts
    }

    /// Asserts every count is within `tolerance` (relative) of its weight's share.
    static func assertProportional(_ counts: [Int], weights: [Int], tolerance: Double,
                                   _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        let total = Double(counts.reduce(0, +))
        let weightTotal = Double(weights.reduce(0, +))
        for (i, w) in weights.enumerated() {
            let expected = total * Double(w) / weightTotal
            let actual = Double(counts[i])
            XCTAssertLessThanOrEqual(abs(actual - expected) / expected, tolerance,
                                     "\(message) endpoint \(i): \(counts) vs weights \(weights)", file: file, line: line)
        }
    }
}
