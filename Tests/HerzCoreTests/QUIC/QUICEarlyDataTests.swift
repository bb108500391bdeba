import HerzCore
import NIOHTTP1
import XCTest

final class QUICEarlyDataTests: XCTestCase {
    func testOnlySafeMethodsAreForwardedFromEarlyData() {
        XCTAssertEqual(QUICEarlyDataDecision.decide(method: .POST, inEarlyData: false), .forward)
        XCTAssertEqual(QUICEarlyDataDecision.decide(method: .GET, inEarlyData: false), .forward)
        for method in [HTTPMethod.GET, .HEAD, .OPTIONS] {
            XCTAssertEqual(QUICEarlyDataDecision.decide(method: method, inEarlyData: true), .forwardMarked, "\(method)")
        }
        for method in [HTTPMethod.POST, .PUT, .DELETE, .PATCH, .RAW(value: "PURGE")] {
            XCTAssertEqual(QUICEarlyDataDecision.decide(method: method, inEarlyData: true), .tooEarly, "\(method)")
        }
    }

    func testASecondSightingWithinTheWindowIsAReplay() {
        var cache = QUICReplayCache(capacity: 10)
        XCTAssertTrue(cache.insert([1, 2], expiresAt: 110, now: 100))
        XCTAssertFalse(cache.insert([1, 2], expiresAt: 115, now: 105), "replay inside the window")
        XCTAssertTrue(cache.insert([3], expiresAt: 115, now: 105), "another ClientHello")
        XCTAssertTrue(cache.insert([1, 2], expiresAt: 121, now: 111), "the first entry expired at 110")
    }

    func testAFullCacheRefusesInsteadOfForgetting() {
        var cache = QUICReplayCache(capacity: 2)
        XCTAssertTrue(cache.insert([1], expiresAt: 110, now: 100))
        XCTAssertTrue(cache.insert([2], expiresAt: 120, now: 100))
        XCTAssertFalse(cache.insert([3], expiresAt: 120, now: 105), "full of live entries: refuse early data")
        XCTAssertFalse(cache.insert([1], expiresAt: 120, now: 105), "and [1] is still remembered")
        XCTAssertTrue(cache.insert([3], expiresAt: 125, now: 111), "[1] expired: room again")
        XCTAssertEqual(cache.count, 2)
    }
}
