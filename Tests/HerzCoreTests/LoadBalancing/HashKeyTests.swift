import NIOHTTP1
import XCTest
@testable import HerzCore

final class HashKeyTests: XCTestCase {
    func testXXHash64KnownVectors() {
        let vectors: [(String, UInt64, UInt64)] = [
            ("", 0, 0xEF46_DB37_51D8_E999),
            ("a", 0, 0xD24E_C4F1_A98C_6E5B),
            ("abc", 0, 0x44BC_2CF5_AD77_0999),
            ("Hello, World!", 0, 0xC49A_ACF8_080F_E47F),
            ("Hello, World!", 42, 0xC2E0_FE28_B251_2846),
            (String(repeating: "a", count: 32), 0, 0x856E_8432_98F9_9AD7),
            (String(repeating: "a", count: 33), 0, 0x18F3_FF0C_21E3_B24B),
            (String(repeating: "abc", count: 999), 0, 0x933E_B856_1397_6467),
            (String(repeating: "abcd", count: 1000), 0, 0x2052_19D3_8E88_98BC),
        ]
        for (input, seed, expected) in vectors {
            XCTAssertEqual(XXHash64.hash(input, seed: seed), expected, "\(input.prefix(16))… seed \(seed)")
        }
    }

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
