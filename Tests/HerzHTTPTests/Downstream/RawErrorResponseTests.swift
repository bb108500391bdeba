import NIOCore
import NIOHTTP1
import XCTest

@testable import HerzHTTP

final class RawErrorResponseTests: XCTestCase {
    func testIsACompleteHTTP1ResponseWithMatchingLength() {
        for status: HTTPResponseStatus in [.badRequest, .requestTimeout, .requestHeaderFieldsTooLarge] {
            let text = String(buffer: RawErrorResponse.bytes(status: status, reason: "why"))
            let parts = text.components(separatedBy: "\r\n\r\n")
            XCTAssertEqual(parts.count, 2)
            XCTAssertTrue(parts[0].hasPrefix("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"))
            XCTAssertTrue(parts[0].contains("connection: close"))
            XCTAssertTrue(parts[0].contains("content-length: \(parts[1].utf8.count)"))
            XCTAssertTrue(parts[1].contains("why"))
        }
    }
}
