import NIOCore
import XCTest
@testable import HerzCore

final class OutlierDetectorTests: XCTestCase {
    private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    private func detector(consecutive: Int = 3, base: Int64 = 30, max: Int64 = 300, percent: Int = 100,
                          endpoints: Int = 10) -> OutlierDetector {
        OutlierDetector(config: OutlierDetectionConfig(consecutive5xx: consecutive, baseEjectionTime: .seconds(base),
                                                       maxEjectionTime: .seconds(max), maxEjectionPercent: percent),
                        endpointCount: endpoints)
    }

    private func fail(_ d: inout OutlierDetector, _ endpoint: Int, times: Int, at now: NIODeadline) -> [OutlierAction?] {
        (0..<times).map { _ in d.recordResponse(endpoint: endpoint, status: 503, now: now) }
    }

    func testWhatCountsAsFailure() {
        let cases: [(UpstreamOutcome, Bool)] = [
            (.status(500), true), (.status(502), true), (.status(503), true), (.status(504), true),
            (.status(599), true), (.connectFailure, true), (.reset, true), (.timeout, true),
            (.status(200), false), (.status(404), false), (.status(429), false), (.status(499), false),
        ]
        for (outcome, failure) in cases { XCTAssertEqual(outcome.isFailure, failure, "\(outcome)") }
    }

    func testConsecutiveFailuresEject() {
        var d = detector()
        XCTAssertEqual(fail(&d, 2, times: 2, at: t0), [nil, nil])
        XCTAssertEqual(d.recordResponse(endpoint: 2, outcome: .connectFailure, now: t0),
                       .eject(endpoint: 2, until: t0 + .seconds(30)))
        XCTAssertTrue(d.isEjected(2))
        XCTAssertEqual(d.ejectedCount, 1)
        XCTAssertEqual(d.nextUnejectDeadline, t0 + .seconds(30))
        // Outcomes of in-flight requests to an ejected endpoint are ignored.
        XCTAssertEqual(fail(&d, 2, times: 5, at: t0), [nil, nil, nil, nil, nil])
    }

    func testSuccessResetsTheStreak() {
        var d = detector()
        _ = fail(&d, 0, times: 2, at: t0)
        XCTAssertNil(d.recordResponse(endpoint: 0, status: 200, now: t0))
        XCTAssertEqual(fail(&d, 0, times: 2, at: t0), [nil, nil])
        XCTAssertNil(d.recordResponse(endpoint: 0, status: 404, now: t0)) // 4xx is a success here
        XCTAssertEqual(fail(&d, 0, times: 3, at: t0).last!, .eject(endpoint: 0, until: t0 + .seconds(30)))
        // Streaks are per endpoint.
        _ = fail(&d, 1, times: 2, at: t0)
        XCTAssertNil(d.recordResponse(endpoint: 2, status: 200, now: t0))
        XCTAssertNotNil(fail(&d, 1, times: 1, at: t0)[0])
    }

    func testBackoffGrowsAndIsCapped() {
        var d = detector(base: 30, max: 100)
        var now = t0
        var durations: [Int64] = []
        for _ in 0..<5 {
            guard case .eject(_, let until)?? = fail(&d, 4, times: 3, at: now).last else { return XCTFail() }
            durations.append((until - now).nanoseconds / 1_000_000_000)
            XCTAssertEqual(d.unejectDue(now: until - .nanoseconds(1)), [])
            XCTAssertEqual(d.unejectDue(now: until), [4])
            now = until + .seconds(1) // back in service for less than the decay interval
        }
        XCTAssertEqual(durations, [30, 60, 90, 100, 100])
        XCTAssertEqual(d.ejectionCount(4), 5)
    }

    func testMultiplierDecaysWhileInService() {
        var d = detector(base: 30, max: 1000)
        _ = fail(&d, 0, times: 3, at: t0)
        XCTAssertEqual(d.unejectDue(now: t0 + .seconds(30)), [0])
        _ = fail(&d, 0, times: 3, at: t0 + .seconds(31))
        XCTAssertEqual(d.ejectionCount(0), 2) // 1 s in service: no decay → 2nd ejection, 60 s
        XCTAssertEqual(d.unejectDue(now: t0 + .seconds(91)), [0])
        // 25 s in service = 2 decay intervals: the multiplier drops from 2 to 0, so this is "first" again.
        let action = fail(&d, 0, times: 3, at: t0 + .seconds(116)).last!
        XCTAssertEqual(action, .eject(endpoint: 0, until: t0 + .seconds(116 + 30)))
    }

    func testMaxEjectionPercent() {
        typealias Row = (name: String, endpoints: Int, percent: Int, expectedEjections: Int)
        let rows: [Row] = [
            ("10% of 10 → 1", 10, 10, 1),
            ("10% of 3 → at least one", 3, 10, 1),
            ("50% of 4 → 2", 4, 50, 2),
            ("34% of 3 → 1", 3, 34, 1),
            ("100% of 3 → all", 3, 100, 3),
            ("0% disables ejection", 3, 0, 0),
            ("single endpoint, 10% → none", 1, 10, 0),
            ("single endpoint, 100% → it", 1, 100, 1),
        ]
        for row in rows {
            var d = detector(percent: row.percent, endpoints: row.endpoints)
            var ejections = 0
            for endpoint in 0..<row.endpoints {
                switch fail(&d, endpoint, times: 3, at: t0).last! {
                case .eject?: ejections += 1
                case .ejectionSkipped(let e)?: XCTAssertEqual(e, endpoint, row.name)
                case nil: XCTFail(row.name)
                }
            }
            XCTAssertEqual(ejections, row.expectedEjections, row.name)
            XCTAssertEqual(d.ejectedCount, row.expectedEjections, row.name)
        }
    }

    func testSkippedEndpointIsRetriedOnceCapacityFrees() {
        var d = detector(percent: 10, endpoints: 3)
        XCTAssertEqual(fail(&d, 0, times: 3, at: t0).last!, .eject(endpoint: 0, until: t0 + .seconds(30)))
        XCTAssertEqual(fail(&d, 1, times: 3, at: t0).last!, .ejectionSkipped(endpoint: 1))
        XCTAssertEqual(d.unejectDue(now: t0 + .seconds(30)), [0])
        XCTAssertEqual(fail(&d, 1, times: 3, at: t0 + .seconds(31)).last!,
                       .eject(endpoint: 1, until: t0 + .seconds(61)))
    }

    func testUnejectDueReturnsOnlyExpired() {
        var d = detector(base: 10, max: 1000, endpoints: 4)
        _ = fail(&d, 1, times: 3, at: t0)
        _ = fail(&d, 3, times: 3, at: t0 + .seconds(5))
        XCTAssertEqual(d.nextUnejectDeadline, t0 + .seconds(10))
        XCTAssertEqual(d.unejectDue(now: t0 + .seconds(9)), [])
        XCTAssertEqual(d.unejectDue(now: t0 + .seconds(12)), [1])
        XCTAssertEqual(d.nextUnejectDeadline, t0 + .seconds(15))
        XCTAssertEqual(d.unejectDue(now: t0 + .seconds(100)), [3])
        XCTAssertNil(d.nextUnejectDeadline)
        XCTAssertFalse(d.isEjected(1))
        // A fresh streak after uneject: one failure does not re-eject.
        XCTAssertEqual(fail(&d, 1, times: 1, at: t0 + .seconds(100)), [nil])
    }
}
