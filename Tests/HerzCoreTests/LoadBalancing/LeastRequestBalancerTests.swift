import XCTest
@testable import HerzCore

final class LeastRequestBalancerTests: XCTestCase {
    func testPrefersLessLoadedEndpoints() {
        let lb = LeastRequestBalancer(endpoints: LB.endpoints(weights: [1, 1, 1]), random: SplitMix64(seed: 11))
        for _ in 0..<10 { lb.requestStarted(0) }
        let counts = LB.histogram(lb, endpointCount: 3)
        // Endpoint 0 only wins when both draws land on it: ~1/9 of picks.
        XCTAssertLessThan(counts[0], 10_000 / 9 + 300, "\(counts)")
        XCTAssertGreaterThan(counts[1], 4000)
        XCTAssertGreaterThan(counts[2], 4000)

        for _ in 0..<10 { lb.requestFinished(0) }
        LB.assertProportional(LB.histogram(lb, endpointCount: 3), weights: [1, 1, 1], tolerance: 0.08)
    }

    func testTwoEndpointsWithOneBusy() {
        let lb = LeastRequestBalancer(endpoints: LB.endpoints(weights: [1, 1]), random: SplitMix64(seed: 12))
        lb.requestStarted(1)
        let counts = LB.histogram(lb, endpointCount: 2)
        XCTAssertEqual(Double(counts[1]) / 10_000, 0.25, accuracy: 0.03, "\(counts)")
    }

    func testLoadIsNormalisedByWeight() {
        // 4 requests on a weight-4 endpoint are as loaded as 1 on a weight-1 endpoint.
        let lb = LeastRequestBalancer(endpoints: LB.endpoints(weights: [4, 1]), random: SplitMix64(seed: 13))
        for _ in 0..<4 { lb.requestStarted(0) }
        lb.requestStarted(1)
        LB.assertProportional(LB.histogram(lb, endpointCount: 2), weights: [4, 1], tolerance: 0.08)
        lb.requestStarted(0) // now 5/4 > 1/1
        let counts = LB.histogram(lb, endpointCount: 2)
        XCTAssertGreaterThan(counts[1], 2000 + 300, "\(counts)")
    }

    func testClosedLoopSpreadsLoadEvenly() {
        // Each pick holds a request; the oldest finishes after 30 are in flight.
        let lb = LeastRequestBalancer(endpoints: LB.endpoints(weights: [1, 1, 1]), random: SplitMix64(seed: 14))
        var inFlight: [Int] = []
        for _ in 0..<5000 {
            let e = lb.pick(LoadBalancerContext())!
            lb.requestStarted(e)
            inFlight.append(e)
            if inFlight.count > 30 { lb.requestFinished(inFlight.removeFirst()) }
        }
        let active = (0..<3).map { lb.activeRequests[$0] }
        XCTAssertLessThanOrEqual(active.max()! - active.min()!, 4, "\(active)")
    }

    func testFinishWithoutStartNeverGoesNegative() {
        let lb = LeastRequestBalancer(endpoints: LB.endpoints(weights: [1, 1]), random: SplitMix64(seed: 15))
        lb.requestFinished(0)
        XCTAssertEqual(lb.activeRequests[0], 0)
    }
}
