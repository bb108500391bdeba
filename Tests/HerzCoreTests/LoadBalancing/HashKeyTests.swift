import NIOHTTP1
import XCTest
@testable import HerzCore

final class HashKeyTests: XCTestCase {
    func testPoliciesInOrder() {
        let headers = HTTPHeaders([("x-user", "alice"), ("Cookie", "theme=dark; session=\"abc123\""),
                                   ("cookie", "other=1")])
        let cases: [(String, [HashPolicy], String?, UInt64?)] = [
            ("header", [.header("X-User")], nil, XXHash64.hash("alice")),
            ("cookie", [.cookie("session")], nil, XXHash64.hash("abc123")),
            ("cookie in second Cookie header", [.cookie("other")], nil, XXHash64.hash("1")),
            ("source IP", [.sourceIP], "192.0.2.7", XXHash64.hash("192.0.2.7")),
            ("first present wins", [.header("x-missing"), .cookie("nope"), .cookie("theme"), .sourceIP],
             "192.0.2.7", XXHash64.hash("dark")),
            ("falls through to source IP", [.header("x-missing"), .sourceIP], "2001:db8::1",
             XXHash64.hash("2001:db8::1")),
            ("nothing present", [.header("x-missing"), .cookie("nope"), .sourceIP], nil, nil),
            ("no policies", [], "192.0.2.7", nil),
        ]
        for (name, policies, ip, expected) in cases {
            XCTAssertEqual(computeHashKey(policies: policies, headers: headers, clientIP: ip), expected, name)
        }
    }

    func testCookieParsingEdgeCases() {
        let headers = HTTPHeaders([("cookie", "a=; b = spaced ;c;sessionx=no; session=yes")])
        XCTAssertEqual(cookieValue(named: "a", in: headers), "")
        XCTAssertEqual(cookieValue(named: "b", in: headers), "spaced")
        XCTAssertNil(cookieValue(named: "c", in: headers))
        XCTAssertEqual(cookieValue(named: "session", in: headers), "yes")
    }

    func testHashKeyDrivesStickyPicks() {
        let lb = makeLoadBalancer(for: LB.cluster(.ringHash, weights: [1, 1, 1, 1]))
        let headers = HTTPHeaders([("x-user", "bob")])
        let key = computeHashKey(policies: [.header("x-user")], headers: headers, clientIP: nil)
        let first = lb.pick(LoadBalancerContext(hashKey: key))
        for _ in 0..<50 { XCTAssertEqual(lb.pick(LoadBalancerContext(hashKey: key)), first) }
    }
}
