@testable import HerzQUIC
import NIOHTTP1
import XCTest

final class HTTP3HeaderTests: XCTestCase {
    func build(_ fields: [(String, String)], maxBytes: Int = 4096) -> Result<HTTPRequestHead, HTTP3RequestHeadBuilder.Failure> {
        var builder = HTTP3RequestHeadBuilder(maxBytes: maxBytes)
        for (name, value) in fields { builder.add(name: name, value: value) }
        return builder.build()
    }

    func testPseudoHeadersBecomeTheRequestLineAndHost() throws {
        let head = try build([(":method", "POST"), (":scheme", "https"), (":authority", "api.example.com"), (":path", "/v1?q=1"),
                              ("host", "other"), ("x-a", "1")]).get()
        XCTAssertEqual(head.method, .POST)
        XCTAssertEqual(head.uri, "/v1?q=1")
        XCTAssertEqual(head.version, HTTPVersion(major: 3, minor: 0))
        XCTAssertEqual(head.headers["host"], ["api.example.com"], ":authority wins")
        XCTAssertEqual(head.headers["x-a"], ["1"])
        XCTAssertFalse(head.headers.contains { $0.name.hasPrefix(":") })
    }

    func testRefusesWhatCannotBeProxied() {
        let base = [(":method", "GET"), (":scheme", "https"), (":authority", "a"), (":path", "/")]
        XCTAssertEqual(build(Array(base.dropFirst())).failure, .missingPseudoHeader(":method"))
        XCTAssertEqual(build(base.filter { $0.0 != ":path" }).failure, .missingPseudoHeader(":path"))
        XCTAssertEqual(build(base.filter { $0.0 != ":scheme" }).failure, .missingPseudoHeader(":scheme"))
        XCTAssertEqual(build(base.filter { $0.0 != ":authority" }).failure, .missingPseudoHeader(":authority"))
        XCTAssertEqual(build([(":method", "CONNECT"), (":authority", "a:443")]).failure, .unsupportedMethod("CONNECT"))
        XCTAssertEqual(build(base + [("x-big", String(repeating: "v", count: 5000))]).failure, .tooLarge)
    }

    func testResponseFieldsDropConnectionSpecificHeadersAndLowercase() {
        var headers = HTTPHeaders([("Content-Type", "text/plain"), ("Connection", "close"), ("Keep-Alive", "5"),
                                   ("Transfer-Encoding", "chunked"), ("TE", "gzip"), ("X-Up", "1")])
        headers.add(name: "te", value: "trailers")
        let fields = HTTP3ResponseFields.fields(status: .ok, headers: headers)
        XCTAssertEqual(fields.map(\.name), [":status", "content-type", "x-up", "te"])
        XCTAssertEqual(fields.first?.value, "200")
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
