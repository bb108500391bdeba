import NIOCore
import XCTest
@testable import HerzCore

final class EndpointAvailabilityTests: XCTestCase {
    func testWithoutHealthChecksAllStartAvailable() {
        let a = EndpointAvailability(endpointCount: 3, healthChecked: false)
        XCTAssertEqual(a.available, [true, true, true])
        XCTAssertFalse(a.isPanicking)
        XCTAssertEqual(a.usableCount, 3)
    }

    func testWithHealthChecksUnknownIsUnhealthyButPanicServesAll() {
        var a = EndpointAvailability(endpointCount: 3, healthChecked: true)
        XCTAssertEqual(a.usableCount, 0)
        XCTAssertTrue(a.isPanicking)
        XCTAssertEqual(a.available, [true, true, true])
        // First passing check ends panic: only the proven endpoint is used.
        XCTAssertTrue(a.apply(.becameHealthy, endpoint: 1))
        XCTAssertFalse(a.isPanicking)
        XCTAssertEqual(a.available, [false, true, false])
    }

    func testHealthAndEjectionCombine() {
        typealias Row = (name: String, steps: [(inout EndpointAvailability) -> Bool], available: [Bool], changed: [Bool])
        let rows: [Row] = [
            ("unhealthy endpoint removed", [{ $0.apply(.becameUnhealthy, endpoint: 0) }], [false, true, true], [true]),
            ("ejected endpoint removed", [{ $0.apply(.eject(endpoint: 2, until: .now())) }], [true, true, false], [true]),
            ("skipped ejection changes nothing", [{ $0.apply(.ejectionSkipped(endpoint: 2)) }], [true, true, true], [false]),
            ("healthy but ejected stays out", [{ $0.setEjected(1, true) }, { $0.apply(.becameHealthy, endpoint: 1) }],
             [true, false, true], [true, false]),
            ("uneject brings it back", [{ $0.setEjected(1, true) }, { $0.uneject([1, 2]) }], [true, true, true], [true, true]),
            ("unejected but unhealthy stays out",
             [{ $0.setEjected(1, true) }, { $0.setHealthy(1, false) }, { $0.uneject([1]) }],
             [true, false, true], [true, false, false]),
            ("all out → panic serves all",
             [{ $0.setHealthy(0, false) }, { $0.setEjected(1, true) }, { $0.setHealthy(2, false) }],
             [true, true, true], [true, true, true]),
        ]
        for row in rows {
            var a = EndpointAvailability(endpointCount: 3, healthChecked: false)
            let changed = row.steps.map { $0(&a) }
            XCTAssertEqual(a.available, row.available, row.name)
            XCTAssertEqual(changed, row.changed, row.name)
        }
    }

    func testPanicThreshold() {
        // 1 of 4 usable = 25 %.
        let cases: [(Int, Bool)] = [(0, false), (25, false), (26, true), (50, true), (100, true)]
        for (threshold, panic) in cases {
            var a = EndpointAvailability(endpointCount: 4, healthChecked: false, panicThresholdPercent: threshold)
            for i in 1...3 { a.setHealthy(i, false) }
            XCTAssertEqual(a.isPanicking, panic, "threshold \(threshold)")
            XCTAssertEqual(a.available, panic ? [true, true, true, true] : [true, false, false, false])
        }
        XCTAssertFalse(EndpointAvailability(endpointCount: 0, healthChecked: true).isPanicking)
    }

    /// The whole path: detector → availability → balancer. An ejected endpoint gets nothing,
    /// however heavy it is.
    func testEjectedHeavyEndpointGetsNoTraffic() {
        for policy in ClusterConfig.LBPolicy.allCases {
            let cluster = LB.cluster(policy, weights: [100, 1, 1])
            let lb = makeLoadBalancer(for: cluster, random: SplitMix64(seed: 51))
            var availability = EndpointAvailability(endpointCount: 3, healthChecked: false)
            var detector = OutlierDetector(config: OutlierDetectionConfig(consecutive5xx: 2, maxEjectionPercent: 50),
                                           endpointCount: 3)
            let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
            for _ in 0..<2 {
                if let action = detector.recordResponse(endpoint: 0, outcome: .reset, now: now),
                   availability.apply(action) {
                    lb.updateAvailability(availability.available)
                }
            }
            XCTAssertEqual(LB.histogram(lb, endpointCount: 3, picks: 1000)[0], 0, "\(policy)")
            if availability.uneject(detector.unejectDue(now: now + .seconds(30))) {
                lb.updateAvailability(availability.available)
            }
            XCTAssertGreaterThan(LB.histogram(lb, endpointCount: 3, picks: 1000)[0], 800, "\(policy)")
        }
    }
}
