import NIOCore
import NIOEmbedded
import XCTest

@testable import HerzHTTP

final class HTTPProtocolSnifferTests: XCTestCase {
    func testDecisionTable() {
        let preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        let cases: [(String, HTTPProtocolSniffer.Decision)] = [
            ("", .needMoreBytes),
            ("P", .needMoreBytes),
            ("PRI * HTTP/2.0\r\n", .needMoreBytes),
            (preface, .http2),
            (preface + "\u{0}\u{0}", .http2),
            ("GET / HTTP/1.1\r\n", .http1),
            ("PUT / HTTP/1.1\r\n", .http1),
            ("PRI * HTTP/1.1\r\n", .http1),
            ("G", .http1),
        ]
        for (bytes, expected) in cases {
            XCTAssertEqual(HTTPProtocolSniffer.decide(ByteBuffer(string: bytes)), expected, bytes.debugDescription)
        }
    }

    /// Bytes that arrive one at a time are held until the decision, then handed on whole, and the
    /// sniffer leaves the pipeline.
    func testByteByByteDeliveryConfiguresOnceAndForwardsEverything() throws {
        let channel = EmbeddedChannel()
        var chosen: [String] = []
        let sniffer = HTTPProtocolSniffer(http1: { _ in chosen.append("h1") }, http2: { _ in chosen.append("h2") })
        try channel.pipeline.syncOperations.addHandler(sniffer)
        let preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nrest"
        for byte in preface.utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        XCTAssertEqual(chosen, ["h2"])
        var received = ByteBuffer()
        while var part = try channel.readInbound(as: ByteBuffer.self) { received.writeBuffer(&part) }
        XCTAssertEqual(String(buffer: received), preface)
        XCTAssertThrowsError(try channel.pipeline.syncOperations.context(handlerType: HTTPProtocolSniffer.self))
        _ = try channel.finish()
    }

    func testHTTP1DecidedOnFirstMismatchingByte() throws {
        let channel = EmbeddedChannel()
        var chosen: [String] = []
        try channel.pipeline.syncOperations.addHandler(HTTPProtocolSniffer(http1: { _ in chosen.append("h1") }, http2: { _ in chosen.append("h2") }))
        try channel.writeInbound(ByteBuffer(string: "GET"))
        XCTAssertEqual(chosen, ["h1"])
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) }, "GET")
        _ = try channel.finish()
    }
}
