import NIOCore
import XCTest
@testable import HerzCore

final class DurationParserTests: XCTestCase {
    func testDurations() {
        let table: [(String, TimeAmount?)] = [
            ("250ms", .milliseconds(250)), ("1s", .seconds(1)), ("2m", .minutes(2)), ("1h", .hours(1)),
            ("1.5s", .milliseconds(1500)), ("0s", .zero), ("0", .zero), ("1m30s", .seconds(90)), ("10us", .microseconds(10)),
            ("5ns", .nanoseconds(5)), (" 2s ", .seconds(2)), ("0.25s", .milliseconds(250)),
            ("", nil), ("5", nil), ("s", nil), ("5x", nil), ("1.2.3s", nil), ("-1s", nil), ("1S", nil), ("1 s", nil), ("ms", nil),
        ]
        for (text, expected) in table {
            XCTAssertEqual(DurationParser.parse(text), expected, "'\(text)'")
        }
    }

    func testFormatRoundTrips() {
        let table: [(TimeAmount, String)] = [(.zero, "0s"), (.milliseconds(1500), "1500ms"), (.minutes(2), "2m"), (.hours(3), "3h"),
                                             (.seconds(90), "90s"), (.microseconds(7), "7us"), (.nanoseconds(3), "3ns")]
        for (amount, text) in table {
            XCTAssertEqual(DurationParser.format(amount), text)
            XCTAssertEqual(DurationParser.parse(text), amount)
        }
    }

    func testByteSizes() {
        let table: [(String, Int?)] = [
            ("1024", 1024), ("64KiB", 65536), ("1MiB", 1 << 20), ("1GiB", 1 << 30), ("10B", 10), ("0", 0),
            ("64kb", nil), ("1.5MiB", nil), ("KiB", nil), ("-1", nil), ("1TiB", nil), ("", nil), ("99999999999999999GiB", nil),
        ]
        for (text, expected) in table {
            XCTAssertEqual(ByteSizeParser.parse(text), expected, "'\(text)'")
        }
    }

    func testHostPorts() {
        let good: [(String, HostPort)] = [
            ("127.0.0.1:80", HostPort(host: "127.0.0.1", port: 80)), ("[::1]:8080", HostPort(host: "::1", port: 8080)),
            ("example.com:443", HostPort(host: "example.com", port: 443)), ("localhost:65535", HostPort(host: "localhost", port: 65535)),
        ]
        for (text, expected) in good { XCTAssertEqual(try? HostPort.parse(text).get(), expected, text) }
        for text in ["127.0.0.1", "::1:80", "[::1]80", "host:0", "host:65536", "host:-1", ":80", "300.1.1.1:80", "a b:80", "[zz]:80", "1.2.3:80"] {
            XCTAssertNil(try? HostPort.parse(text).get(), text)
        }
        XCTAssertEqual(try? HostPort.parse("0.0.0.0:0", allowPortZero: true).get(), HostPort(host: "0.0.0.0", port: 0))
    }
}
