import XCTest
@testable import HerzCore

final class CircuitBreakerLimitsTests: XCTestCase {
    private let limits = CircuitBreakerLimits(config: CircuitBreakerConfig(maxConnections: 2, maxPendingRequests: 3,
                                                                           maxRequests: 4, maxRetries: 1))

    func testDecisions() {
        typealias Admit = (CircuitBreakerLimits) -> (CircuitBreakerCounts) -> CircuitBreakerDecision
        let rows: [(String, Admit, CircuitBreakerCounts, CircuitBreakerDecision)] = [
            ("connection under limit", CircuitBreakerLimits.admitConnection, .init(connections: 1), .allow),
            ("connection at limit", CircuitBreakerLimits.admitConnection, .init(connections: 2), .reject(.maxConnections)),
            ("pending under limit", CircuitBreakerLimits.admitPendingRequest, .init(pendingRequests: 2), .allow),
            ("pending at limit", CircuitBreakerLimits.admitPendingRequest, .init(pendingRequests: 3),
             .reject(.maxPendingRequests)),
            ("request under limit", CircuitBreakerLimits.admitRequest, .init(activeRequests: 3), .allow),
            ("request at limit", CircuitBreakerLimits.admitRequest, .init(activeRequests: 4), .reject(.maxRequests)),
            ("request over limit (config shrank)", CircuitBreakerLimits.admitRequest, .init(activeRequests: 9),
             .reject(.maxRequests)),
            ("other counts do not matter for requests", CircuitBreakerLimits.admitRequest,
             .init(connections: 99, pendingRequests: 99, activeRequests: 0, activeRetries: 99), .allow),
            ("retry under limit", CircuitBreakerLimits.admitRetry, .init(activeRequests: 1, activeRetries: 0), .allow),
            ("retry at limit", CircuitBreakerLimits.admitRetry, .init(activeRequests: 1, activeRetries: 1),
             .reject(.maxRetries)),
            ("retry is also a request", CircuitBreakerLimits.admitRetry, .init(activeRequests: 4, activeRetries: 0),
             .reject(.maxRequests)),
        ]
        for (name, admit, counts, expected) in rows {
            XCTAssertEqual(admit(limits)(counts), expected, name)
        }
    }

    func testLimitNamesAndHeader() {
        XCTAssertEqual(CircuitBreakerLimit.allCases.map(\.rawValue),
                       ["max_connections", "max_pending_requests", "max_requests", "max_retries"])
        XCTAssertEqual(CircuitBreakerLimits.overloadedHeader, "x-herz-overloaded")
        XCTAssertTrue(CircuitBreakerDecision.allow.isAllowed)
        XCTAssertFalse(CircuitBreakerDecision.reject(.maxRetries).isAllowed)
    }

    func testZeroLimitsRejectEverything() {
        let closed = CircuitBreakerLimits(config: CircuitBreakerConfig(maxConnections: 0, maxPendingRequests: 0,
                                                                       maxRequests: 0, maxRetries: 0))
        XCTAssertEqual(closed.admitConnection(.init()), .reject(.maxConnections))
        XCTAssertEqual(closed.admitPendingRequest(.init()), .reject(.maxPendingRequests))
        XCTAssertEqual(closed.admitRequest(.init()), .reject(.maxRequests))
        XCTAssertEqual(closed.admitRetry(.init()), .reject(.maxRetries))
    }
}
