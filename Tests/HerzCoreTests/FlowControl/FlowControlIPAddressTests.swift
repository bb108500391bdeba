import XCTest
@testable import HerzCore

final class FlowControlIPAddressTests: XCTestCase {
    func testParsesAndPrintsAddresses() {
        let cases: [(String, String?)] = [
            ("10.1.2.3", "10.1.2.3"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
            ("::1", "::1"), ("::", "::"), ("2001:DB8::8:800:200C:417A", "2001:db8::8:800:200c:417a"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::ffff:10.1.2.3", "10.1.2.3"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
            ("fe80::1%eth0", nil), ("256.1.1.1", nil), ("1.2.3", nil), ("01.2.3.4", nil), ("1.2.3.4.5", nil), (":::", nil),
            ("1::2::3", nil), ("12345::", nil), ("1:2:3:4:5:6:7:8:9", nil), ("1:2:3:4:5:6:7::8", nil), ("", nil), ("g::1", nil),
            ("::1.2.3.4", "::102:304"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(FlowIPAddress(text)?.description, expected, text)
        }
    }

    func testCIDRContainment() throws {
        let ten = try XCTUnwrap(FlowCIDR("10.0.0.0/8"))
        XCTAssertTrue(ten.contains(try XCTUnwrap(FlowIPAddress("10.255.0.1"))))
        XCTAssertTrue(ten.contains(try XCTUnwrap(FlowIPAddress("::ffff:10.0.0.1"))), "IPv4-mapped clients match IPv4 ranges")
        XCTAssertFalse(ten.contains(try XCTUnwrap(FlowIPAddress("11.0.0.0"))))
        XCTAssertFalse(ten.contains(try XCTUnwrap(FlowIPAddress("a00::1"))), "an IPv4 range never matches native IPv6")
        XCTAssertEqual(FlowCIDR("10.1.2.3/8")?.description, "10.0.0.0/8", "host bits are cleared")
        XCTAssertEqual(FlowCIDR("10.1.2.3")?.description, "10.1.2.3/32")
        XCTAssertEqual(FlowCIDR("2001:db8::/32")?.contains(try XCTUnwrap(FlowIPAddress("2001:db8:ffff::1"))), true)
        XCTAssertEqual(FlowCIDR("::/0")?.contains(try XCTUnwrap(FlowIPAddress("1.2.3.4"))), true)
        XCTAssertEqual(FlowCIDR("0.0.0.0/0")?.contains(try XCTUnwrap(FlowIPAddress("::1"))), false)
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "/8", "10.0.0.0/0008"] {
            XCTAssertNil(FlowCIDR(bad), bad)
        }
    }
}
