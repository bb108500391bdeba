import NIOCore
import NIOHTTP1
import XCTest

@testable import HerzHTTP

final class HTTP1MessageWriterTests: XCTestCase {
    private func text(_ writer: inout HTTP1MessageWriter, large: [ByteBuffer] = []) -> String {
        var out = ""
        for buffer in large { out += String(buffer: buffer) }
        if let pending = writer.takePending() { out += String(buffer: pending) }
        return out
    }

    private func response(_ status: HTTPResponseStatus, version: HTTPVersion = .http1_1,
                          _ headers: [(String, String)]) -> HTTPResponseHead {
        HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(headers))
    }

    func testResponseWithContentLengthIsWrittenAsIsInOneBuffer() {
        var writer = HTTP1MessageWriter(allocator: ByteBufferAllocator())
        let close = writer.writeResponseHead(response(.ok, [("content-length", "5"), ("Transfer-Encoding", "chunked"), ("x-a", "1")]),
                                             requestIsHEAD: false, forceClose: false)
        XCTAssertFalse(close)
        XCTAssertNil(writer.appendBody(.byteBuffer(ByteBuffer(string: "hello"))).body, "small bodies are copied")
        writer.writeEnd(nil)
        XCTAssertEqual(text(&writer), "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: 1\r\n\r\nhello")
    }

    func testResponseWithoutLengthIsChunkedWithTrailers() {
        var writer = HTTP1MessageWriter(allocator: ByteBufferAllocator())
        _ = writer.writeResponseHead(response(.notFound, [("x-a", "1")]), requestIsHEAD: false, forceClose: false)
        _ = writer.appendBody(.byteBuffer(ByteBuffer(string: String(repeating: "a", count: 26))))
        _ = writer.appendBody(.byteBuffer(ByteBuffer()))
        writer.writeEnd(HTTPHeaders([("grpc-status", "0")]))
        XCTAssertEqual(text(&writer), "HTTP/1.1 404 Not Found\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n"
                       + "1a\r\n" + String(repeating: "a", count: 26) + "\r\n0\r\ngrpc-status: 0\r\n\r\n")
    }

    func testBodylessStatusesDropFramingAndBody() {
        for status in [HTTPResponseStatus.noContent, .notModified] {
            var writer = HTTP1MessageWriter(allocator: ByteBufferAllocator())
            _ = writer.writeResponseHead(response(status, [("content-length", "3"), ("etag", "x")]), requestIsHEAD: false, forceClose: false)
            _ = writer.appendBody(.byteBuffer(ByteBuffer(string: "abc")))
            writer.writeEnd(nil)
            XCTAssertEqual(text(&writer), "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\netag: x\r\n\r\n")
        }
    }

    func testHeadResponseKeepsHeadersButWritesNoBody() {
        var writer = HTTP1MessageWriter(allocator: ByteBufferAllocator())
        _ = writer.writeResponseHead(response(.ok, [("content-length", "3")]), requestIsHEAD: true, forceClose: false)
        _ = writer.appendBody(.byteBuffer(ByteBuffer(string: "abc")))
        writer.writeEnd(nil)
        XCTAssertEqual(text(&writer), "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n")
        // Without a length: advertises chunked (as a GET would get) but writes no terminator.
        _ = writer.writeResponseHead(response(.ok, []), requestIsHEAD: true, forceClose: false)
        writer.writeEnd(nil)
        XCTAssertEqual(text(&writer), "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    }

    func testHTTP10WithoutLengthIsCloseDelimited() {
        var writer = HTTP1MessageWriter(allocator: ByteBufferAllocator())
        let close = writer.writeResponseHead(response(.ok, version: .http1_0, [("connection", "keep-alive")]),
                                             requestIsHEAD: false, forceClose: false)
        XCTAssertTrue(close)
        _ = writer.appendBody(.byteBuffer(ByteBuffer(string: "abc")))
        writer.writeEnd(nil)
        XCTAssertEqual(text(&writer), "HTTP/1.0 200 OK\r\nconnection: close\r\n\r\nabc")
    }

    func testForceCloseReplacesConnectionHeader() {
        var writer = HTTP1MessageWriter(allocator: ByteBufferAllocator())
        _ = writer.writeResponseHead(response(.created, [("Connection", "keep-alive"), ("content-length", "0")]),
                                     requestIsHEAD: false, forceClose: true)
        XCTAssertEqual(text(&writer), "HTTP/1.1 201 Created\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
    }

    func testLargeBodiesAreNotCopied() {
        var writer = HTTP1MessageWriter(allocator: ByteBufferAllocator())
        _ = writer.writeResponseHead(response(.ok, []), requestIsHEAD: false, forceClose: false)
        let big = ByteBuffer(repeating: UInt8(ascii: "b"), count: HTTP1MessageWriter.copyLimit + 1)
        let writes = writer.appendBody(.byteBuffer(big))
        XCTAssertEqual(writes.body, .byteBuffer(big))  // not copied
        XCTAssertEqual(writes.after, ByteBuffer(string: "\r\n"))
        XCTAssertFalse(writer.hasPending)  // head and chunk size went out in `before`
        let large = [writes.before!, big, writes.after!]
        writer.writeEnd(nil)
        XCTAssertEqual(text(&writer, large: large),
                       "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1001\r\n" + String(buffer: big) + "\r\n0\r\n\r\n")
    }

    func testRequestFraming() {
        var writer = HTTP1MessageWriter(allocator: ByteBufferAllocator())
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/a?b", headers: HTTPHeaders([("host", "h")]))
        writer.writeRequestHead(get, hasBody: false)
        writer.writeEnd(nil)
        XCTAssertEqual(text(&writer), "GET /a?b HTTP/1.1\r\nhost: h\r\n\r\n")

        // A body without a length is chunked, whatever the method (never unframed).
        let streamed = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([("host", "h")]))
        writer.writeRequestHead(streamed, hasBody: true)
        _ = writer.appendBody(.byteBuffer(ByteBuffer(string: "xy")))
        writer.writeEnd(nil)
        XCTAssertEqual(text(&writer), "GET / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n")

        let sized = HTTPRequestHead(version: .http1_1, method: .PUT, uri: "/", headers: HTTPHeaders([("content-length", "2")]))
        writer.writeRequestHead(sized, hasBody: true)
        _ = writer.appendBody(.byteBuffer(ByteBuffer(string: "xy")))
        writer.writeEnd(nil)
        XCTAssertEqual(text(&writer), "PUT / HTTP/1.1\r\ncontent-length: 2\r\n\r\nxy")

        let empty = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: HTTPHeaders())
        writer.writeRequestHead(empty, hasBody: false)
        writer.writeEnd(nil)
        XCTAssertEqual(text(&writer), "POST / HTTP/1.1\r\ncontent-length: 0\r\n\r\n")
    }

    func testOutputStorageIsReusedOnceReleased() {
        var writer = HTTP1MessageWriter(allocator: ByteBufferAllocator())
        _ = writer.writeResponseHead(response(.ok, [("content-length", "0")]), requestIsHEAD: false, forceClose: false)
        var first = writer.takePending()
        let address = first?.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        first = nil  // the socket wrote it
        _ = writer.writeResponseHead(response(.ok, [("content-length", "0")]), requestIsHEAD: false, forceClose: false)
        let second = writer.takePending()
        XCTAssertEqual(second?.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }, address)
        XCTAssertNil(first)
    }
}
