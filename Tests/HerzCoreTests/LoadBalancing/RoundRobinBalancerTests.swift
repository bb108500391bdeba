import XCTest
@testable import HerzCore

final class RoundRobinBalancerTests: XCTestCase {
    private func sequence(weights: [Int], count: Int, available: [Bool]? = nil) -> [Int] {
        let lb = RoundRobinBalancer(endpoints: LB.endpoints(weights: weights), available: available,
                                    randomizeStart: false)
        return (0..<count).map { _ in lb.pick(LoadBalancerContext())! }
    }

    func testSmoothWeightedSequences() {
        let cases: [(weights: [Int], expected: [Int])] = [
            // nginx's example: a a b a c a a, then again.
            ([5, 1, 1], [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0]),
            ([1, 1, 1], [0, 1, 2, 0, 1, 2]),
            ([2, 2, 2], [0, 1, 2, 0, 1, 2]),
            ([2, 1], [0, 1, 0, 0, 1, 0]),
            ([1], [0, 0, 0]),
        ]
        for (weights, expected) in cases {
            XCTAssertEqual(sequence(weights: weights, count: expected.count), expected, "\(weights)")
        }
    }

    func testUnavailableEndpointLeavesTheCycle() {
        XCTAssertEqual(sequence(weights: [5, 1, 1], count: 6, available: [true, false, true]),
                       [0, 0, 0, 2, 0, 0])
    }

    func testLiveModeMatchesSchedule() {
        // Σw / gcd beyond the schedule cap: the algorithm runs live and must still be smooth and exact.
        let big = RoundRobinBalancer.maximumScheduleLength
        let weights = [big, 1, 1] // period big + 2 > cap
        let seq = sequence(weights: weights, count: 2 * (big + 2))
        var counts = [0, 0, 0]
        for e in seq { counts[e] += 1 }
        XCTAssertEqual(counts, [2 * big, 2, 2])
    }

    func testRandomizedStartStillCycles() {
        let lb = RoundRobinBalancer(endpoints: LB.endpoints(weights: [1, 1, 1]), random: SplitMix64(seed: 99))
        let seq = (0..<6).map { _ in lb.pick(LoadBalancerContext())! }
        XCTAssertEqual(Set(seq.prefix(3)), [0, 1, 2])
        XCTAssertEqual(Array(seq.prefix(3)), Array(seq.suffix(3)))
    }
}
