import XCTest
@testable import HerzCore

final class HealthCheckStateMachineTests: XCTestCase {
    private enum Event { case pass, fail }

    /// Each row: thresholds, events, the transition expected after each event, final state.
    func testTransitions() {
        typealias Row = (name: String, healthy: Int, unhealthy: Int, events: [Event],
                         expected: [HealthTransition?], final: HealthCheckStateMachine.State)
        let rows: [Row] = [
            ("first pass from unknown is enough", 3, 3, [.pass], [.becameHealthy], .healthy),
            ("first failure from unknown is enough", 3, 3, [.fail], [.becameUnhealthy], .unhealthy),
            ("healthy tolerates fewer failures than threshold", 2, 3, [.pass, .fail, .fail, .pass, .fail, .fail],
             [.becameHealthy, nil, nil, nil, nil, nil], .healthy),
            ("unhealthy threshold reached", 2, 3, [.pass, .fail, .fail, .fail, .fail],
             [.becameHealthy, nil, nil, .becameUnhealthy, nil], .unhealthy),
            ("recovery needs healthy threshold in a row", 2, 1, [.fail, .pass, .fail, .pass, .pass, .pass],
             [.becameUnhealthy, nil, nil, nil, .becameHealthy, nil], .healthy),
            ("thresholds below one act as one", 0, -1, [.pass, .fail, .pass],
             [.becameHealthy, .becameUnhealthy, .becameHealthy], .healthy),
        ]
        for row in rows {
            var machine = HealthCheckStateMachine(healthyThreshold: row.healthy, unhealthyThreshold: row.unhealthy)
            XCTAssertEqual(machine.state, .unknown, row.name)
            XCTAssertFalse(machine.isHealthy, row.name)
            let got = row.events.map { $0 == .pass ? machine.checkSucceeded() : machine.checkFailed() }
            XCTAssertEqual(got, row.expected, row.name)
            XCTAssertEqual(machine.state, row.final, row.name)
        }
    }

    func testStatusJudgement() {
        let cases: [(Int, [ClosedRange<Int>], Bool)] = [
            (200, [200...299], true), (299, [200...299], true), (300, [200...299], false),
            (503, [200...299], false), (204, [200...200], false), (418, [200...200, 418...418], true),
            (200, [], true), (500, [], false),
        ]
        for (status, expected, healthy) in cases {
            XCTAssertEqual(isHealthy(status: status, expected: expected), healthy, "\(status) in \(expected)")
        }
    }

    func testCheckCompletedUsesConfiguredStatuses() {
        var machine = HealthCheckStateMachine(config: HealthCheckConfig(healthyThreshold: 1, unhealthyThreshold: 1,
                                                                       expectedStatuses: [200...200]))
        XCTAssertEqual(machine.checkCompleted(status: 200), .becameHealthy)
        XCTAssertEqual(machine.checkCompleted(status: 204), .becameUnhealthy)
        XCTAssertEqual(machine.checkCompleted(status: 200), .becameHealthy)
    }
}
