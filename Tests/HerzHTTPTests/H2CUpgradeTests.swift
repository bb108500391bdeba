import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import XCTest
@testable import HerzHTTP

/// `Upgrade: h2c`: the header checks, the state machine, the replayed frames, and a whole
/// upgrade through `EmbeddedChannel` (HTTP/1.1 request in, HTTP/2 frames out).
final class H2CUpgradeTests: XCTestCase {
    /// SETTINGS_MAX_CONCURRENT_STREAMS = 100, SETTINGS_INITIAL_WINDOW_SIZE = 65535.
    static let settings = "AAMAAABkAAQAAP__"
    static let settingsBytes: [UInt8] = [0, 3, 0, 0, 0, 100, 0, 4, 0, 0, 0xFF, 0xFF]

    static func head(_ headers: [(String, String)], method: HTTPMethod = .GET, uri: String = "/small",
                     version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    static let upgradeHeaders: [(String, String)] = [
        ("Host", "example.com"), ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
        ("HTTP2-Settings", settings), ("Accept", "*/*"),
    ]

    static func replacing(_ name: String, with value: String?) -> [(String, String)] {
        var headers = upgradeHeaders.filter { $0.0.lowercased() != name.lowercased() }
        if let value { headers.append((name, value)) }
        return headers
    }

    // MARK: header validation

    func testEvaluationTable() {
        typealias E = H2CUpgradeRequest.Evaluation
        let valid = Self.head(Self.upgradeHeaders)
        let cases: [(String, HTTPRequestHead, Bool, E)] = [
            ("valid", valid, false, .upgrade(H2CUpgradeRequest(head: valid, settingsPayload: Self.settingsBytes))),
            ("no upgrade at all", Self.head([("Host", "a")]), false, .serveAsHTTP1(.notRequested)),
            ("upgrade to something else", Self.head(Self.replacing("Upgrade", with: "websocket")), false,
             .serveAsHTTP1(.notRequested)),
            ("TLS: not applicable", valid, true, .serveAsHTTP1(.secureTransport)),
            ("HTTP/1.0", Self.head(Self.upgradeHeaders, version: .http1_0), false, .serveAsHTTP1(.notHTTP11)),
            ("HTTP2-Settings missing", Self.head(Self.replacing("HTTP2-Settings", with: nil)), false,
             .serveAsHTTP1(.settingsMissing)),
            ("HTTP2-Settings twice", Self.head(Self.upgradeHeaders + [("HTTP2-Settings", Self.settings)]), false,
             .serveAsHTTP1(.settingsRepeated)),
            ("Connection missing", Self.head(Self.replacing("Connection", with: nil)), false,
             .serveAsHTTP1(.connectionTokensMissing)),
            ("Connection without HTTP2-Settings", Self.head(Self.replacing("Connection", with: "Upgrade")), false,
             .serveAsHTTP1(.connectionTokensMissing)),
            ("Connection without Upgrade", Self.head(Self.replacing("Connection", with: "HTTP2-Settings")), false,
             .serveAsHTTP1(.connectionTokensMissing)),
            ("bad base64url", Self.head(Self.replacing("HTTP2-Settings", with: "AAMAAABk+/8")), false,
             .reject("HTTP2-Settings is not base64url")),
            ("wrong length", Self.head(Self.replacing("HTTP2-Settings", with: "AAMAAABk-_8")), false,
             .reject("HTTP2-Settings is 8 bytes, not a multiple of 6")),
            ("Expect: 100-continue", Self.head(Self.upgradeHeaders + [("Expect", "100-continue")]), false,
             .serveAsHTTP1(.expectsContinue)),
            ("absolute-form target", Self.head(Self.upgradeHeaders, uri: "http://example.com/"), false,
             .serveAsHTTP1(.unsupportedTarget)),
        ]
        for (name, head, secure, expected) in cases {
            XCTAssertEqual(H2CUpgradeRequest.evaluate(head, isSecure: secure), expected, name)
        }
        // Token matching is case-insensitive and tolerates lists.
        let mixed = Self.head([("host", "a"), ("connection", "keep-alive, upgrade"), ("connection", "http2-settings"),
                               ("upgrade", "websocket, H2C"), ("http2-settings", "")])
        XCTAssertEqual(H2CUpgradeRequest.evaluate(mixed, isSecure: false),
                       .upgrade(H2CUpgradeRequest(head: mixed, settingsPayload: [])))
    }

    func testBase64URL() {
        XCTAssertEqual(H2CUpgradeRequest.decodeBase64URL(""), [])
        XCTAssertEqual(H2CUpgradeRequest.decodeBase64URL(Self.settings), Self.settingsBytes)
        XCTAssertEqual(H2CUpgradeRequest.decodeBase64URL("AAMAAABk-_8"), [0, 3, 0, 0, 0, 100, 0xFB, 0xFF])
        XCTAssertEqual(H2CUpgradeRequest.decodeBase64URL("AAMAAABk-_8="), [0, 3, 0, 0, 0, 100, 0xFB, 0xFF])
        XCTAssertNil(H2CUpgradeRequest.decodeBase64URL("AAMAAABk+/8"))
        XCTAssertNil(H2CUpgradeRequest.decodeBase64URL("A"))
        XCTAssertNil(H2CUpgradeRequest.decodeBase64URL("AA=A"))
        XCTAssertNil(H2CUpgradeRequest.decodeBase64URL("AAMA AABk"))
    }

    func testHTTP2HeaderList() {
        let head = Self.head(Self.upgradeHeaders + [("Keep-Alive", "5"), ("X-Hop", "1"), ("Connection", "x-hop"),
                                                     ("TE", "gzip"), ("X-Kept", "yes")], method: .POST, uri: "/echo?a=1")
        let request = H2CUpgradeRequest(head: head, settingsPayload: [])
        let list = request.http2Headers.map { "\($0.name): \($0.value)" }
        XCTAssertEqual(list, [":method: POST", ":scheme: http", ":path: /echo?a=1", ":authority: example.com",
                              "accept: */*", "x-kept: yes"])
    }

    // MARK: state machine

    func testPlainRequestPassesAndLeaves() {
        var machine = H2CUpgradeStateMachine()
        let head = Self.head([("Host", "a")])
        XCTAssertEqual(machine.receiveHead(head), .pass([.head(head)], then: .leave(restartDecoder: false)))
    }

    func testDeclinedAttemptRestartsTheStoppedDecoder() {
        var machine = H2CUpgradeStateMachine()
        let head = Self.head(Self.replacing("HTTP2-Settings", with: nil))
        XCTAssertEqual(machine.receiveHead(head), .pass([.head(head)], then: .keepWatching))
        XCTAssertEqual(machine.receiveBody(ByteBuffer(string: "x")), .pass([.body(ByteBuffer(string: "x"))], then: .keepWatching))
        XCTAssertEqual(machine.receiveEnd(nil), .pass([.end(nil)], then: .leave(restartDecoder: true)))
        // `Upgrade: h2c` without `Connection: upgrade`: the decoder never stopped.
        var other = H2CUpgradeStateMachine()
        let noConnection = Self.head(Self.replacing("Connection", with: nil))
        XCTAssertEqual(other.receiveHead(noConnection), .pass([.head(noConnection)], then: .keepWatching))
        XCTAssertEqual(other.receiveEnd(nil), .pass([.end(nil)], then: .leave(restartDecoder: false)))
    }

    func testUpgradeHoldsTheBody() {
        var machine = H2CUpgradeStateMachine()
        let head = Self.head(Self.upgradeHeaders, method: .POST)
        XCTAssertEqual(machine.receiveHead(head), .hold)
        XCTAssertEqual(machine.receiveBody(ByteBuffer(string: "hello ")), .hold)
        XCTAssertEqual(machine.receiveBody(ByteBuffer(string: "world")), .hold)
        XCTAssertEqual(machine.receiveEnd(nil), .upgrade(H2CUpgradeRequest(head: head, settingsPayload: Self.settingsBytes),
                                                         body: ByteBuffer(string: "hello world")))
        XCTAssertEqual(machine.receiveHead(head), .ignore)
    }

    func testBodyTooLargeIsServedAsHTTP1() {
        var machine = H2CUpgradeStateMachine()
        let head = Self.head(Self.upgradeHeaders, method: .POST)
        let first = ByteBuffer(repeating: 1, count: 60_000)
        let second = ByteBuffer(repeating: 2, count: 6_000)
        XCTAssertEqual(machine.receiveHead(head), .hold)
        XCTAssertEqual(machine.receiveBody(first), .hold)
        XCTAssertEqual(machine.receiveBody(second), .pass([.head(head), .body(first), .body(second)], then: .keepWatching))
        XCTAssertEqual(machine.receiveEnd(nil), .pass([.end(nil)], then: .leave(restartDecoder: true)))
    }

    func testTrailersAreServedAsHTTP1() {
        var machine = H2CUpgradeStateMachine()
        let head = Self.head(Self.upgradeHeaders, method: .POST)
        let trailers = HTTPHeaders([("x-checksum", "1")])
        XCTAssertEqual(machine.receiveHead(head), .hold)
        XCTAssertEqual(machine.receiveEnd(trailers), .pass([.head(head), .end(trailers)], then: .leave(restartDecoder: true)))
    }

    func testMalformedSettingsAreRejected() {
        var machine = H2CUpgradeStateMachine()
        let head = Self.head(Self.replacing("HTTP2-Settings", with: "!!"))
        XCTAssertEqual(machine.receiveHead(head), .reject("HTTP2-Settings is not base64url"))
        XCTAssertEqual(machine.receiveEnd(nil), .ignore)
    }

    // MARK: frames

    func testStreamOneFramesWithoutBody() throws {
        let request = H2CUpgradeRequest(head: Self.head(Self.upgradeHeaders), settingsPayload: [])
        let frames = Frame.parse(try H2CStreamOneFrames.encode(request, body: ByteBuffer()))
        XCTAssertEqual(frames.map(\.type), [0x1])
        XCTAssertEqual(frames[0].streamID, 1)
        XCTAssertEqual(frames[0].flags, 0x5)  // END_STREAM | END_HEADERS
        var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
        var block = frames[0].payload
        let headers = try decoder.decodeHeaders(from: &block)
        XCTAssertEqual(headers.map { "\($0.name): \($0.value)" },
                       [":method: GET", ":scheme: http", ":path: /small", ":authority: example.com", "accept: */*"])
        // Stream 1 must leave the HPACK dynamic table empty: index 62 (its first entry) is unknown.
        var probe = ByteBuffer(bytes: [0x80 | 62])
        XCTAssertThrowsError(try decoder.decodeHeaders(from: &probe))
    }

    func testStreamOneFramesWithBodyAndLongHeaders() throws {
        let head = Self.head(Self.upgradeHeaders + [("x-long", String(repeating: "v", count: 20_000))], method: .POST)
        let body = ByteBuffer(repeating: 7, count: 40_000)
        let frames = Frame.parse(try H2CStreamOneFrames.encode(H2CUpgradeRequest(head: head, settingsPayload: []), body: body))
        XCTAssertEqual(frames.map(\.type), [0x1, 0x9, 0x0, 0x0, 0x0])
        XCTAssertEqual(frames.map(\.flags), [0x0, 0x4, 0x0, 0x0, 0x1])
        XCTAssertTrue(frames.allSatisfy { $0.streamID == 1 && $0.payload.readableBytes <= 16_384 })
        XCTAssertEqual(frames[2...].map(\.payload.readableBytes).reduce(0, +), 40_000)
    }

    func testSplicerMergesSettingsAndInsertsStreamOne() {
        var splicer = H2CPrefaceSplicer(settingsPayload: Self.settingsBytes, streamOne: ByteBuffer(string: "STREAM1"))
        var client = ByteBuffer(bytes: HTTPProtocolSniffer.preface)
        client.writeBytes([0, 0, 6, 0x4, 0, 0, 0, 0, 0, /* ENABLE_PUSH = 0 */ 0, 2, 0, 0, 0, 0])
        client.writeString("REST")
        // Byte by byte: nothing is released until the SETTINGS frame is complete.
        var released: ByteBuffer?
        while let byte = client.readSlice(length: 1) {
            switch splicer.receive(byte) {
            case .needMoreBytes: XCTAssertNil(released)
            case .release(let bytes): released = bytes
            }
            if released != nil { break }
        }
        XCTAssertEqual(client.readableBytes, 4, "released as soon as the first frame was complete")
        var expected = ByteBuffer(bytes: HTTPProtocolSniffer.preface)
        expected.writeBytes([0, 0, 18, 0x4, 0, 0, 0, 0, 0])
        expected.writeBytes(Self.settingsBytes)
        expected.writeBytes([0, 2, 0, 0, 0, 0])
        expected.writeString("STREAM1")
        XCTAssertEqual(released, expected)
    }

    func testSplicerPassesGarbageThrough() {
        var splicer = H2CPrefaceSplicer(settingsPayload: [], streamOne: ByteBuffer(string: "STREAM1"))
        guard case .release(let bytes) = splicer.receive(ByteBuffer(string: "GET / HTTP/1.1\r\n")) else {
            return XCTFail("not a preface: released unchanged")
        }
        XCTAssertEqual(bytes, ByteBuffer(string: "GET / HTTP/1.1\r\n"))
    }

    // MARK: a whole connection through EmbeddedChannel

    func testUpgradeServesStreamOneOverHTTP2() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        let body = "ping"
        try channel.writeInbound(ByteBuffer(string: "POST /echo HTTP/1.1\r\nHost: example.com\r\n"
                                                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                                                + "HTTP2-Settings: \(Self.settings)\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                                                + body))
        channel.embeddedEventLoop.run()
        var written = Self.drainOutbound(channel)
        let switching = ByteBuffer(string: H2CUpgradeHandler.switchingProtocols)
        XCTAssertEqual(written.readSlice(length: switching.readableBytes), switching)
        // The server's preface follows the 101 at once.
        let serverPreface = Frame.parse(written)
        XCTAssertEqual(serverPreface.first?.type, 0x4)
        XCTAssertEqual(serverPreface.first.map { $0.flags & 0x1 }, 0)
        XCTAssertFalse(channel.pipeline.containsHandler(type: H2CUpgradeHandler.self))
        XCTAssertFalse(channel.pipeline.containsHandler(type: HTTPServerPipelineHandler.self))

        // The client's preface and SETTINGS, then a second request on stream 3 in the same write.
        var client = ByteBuffer(bytes: HTTPProtocolSniffer.preface)
        client.writeBytes([0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0])
        var encoder = HPACKEncoder(allocator: ByteBufferAllocator())
        var block = ByteBuffer()
        try encoder.encode(headers: HPACKHeaders([(":method", "GET"), (":scheme", "http"), (":path", "/second"),
                                                  (":authority", "example.com")]), to: &block)
        H2CStreamOneFrames.writeFrame(.headers, flags: 0x5, streamID: 3, payload: &block, to: &client)
        try channel.writeInbound(client)
        channel.embeddedEventLoop.run()
        XCTAssertFalse(channel.pipeline.containsHandler(type: H2CStreamOneInjector.self))

        let frames = Frame.parse(Self.drainOutbound(channel))
        XCTAssertTrue(frames.contains { $0.type == 0x4 && $0.flags == 0x1 }, "SETTINGS ACK")
        var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
        var responses: [UInt32: (status: String?, body: String)] = [:]
        for frame in frames where frame.streamID != 0 {
            var payload = frame.payload
            if frame.type == 0x1 {
                let headers = try decoder.decodeHeaders(from: &payload)
                responses[frame.streamID, default: (nil, "")].status = headers.first(name: ":status")
            } else if frame.type == 0x0 {
                responses[frame.streamID, default: (nil, "")].body += payload.readString(length: payload.readableBytes)!
            }
        }
        XCTAssertEqual(responses[1]?.status, "200")
        XCTAssertEqual(responses[1]?.body, "POST /echo example.com ping")
        XCTAssertEqual(responses[3]?.status, "200")
        XCTAssertEqual(responses[3]?.body, "GET /second example.com ")
    }

    func testDeclinedUpgradeKeepsServingHTTP1() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        // No HTTP2-Settings: served as HTTP/1.1, and the pipelined request after it too.
        try channel.writeInbound(ByteBuffer(string: "GET /one HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
                                                + "GET /two HTTP/1.1\r\nHost: a\r\n\r\n"))
        channel.embeddedEventLoop.run()
        var written = Self.drainOutbound(channel)
        let text = written.readString(length: written.readableBytes)!
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK"), text)
        XCTAssertTrue(text.contains("GET /one a "), text)
        XCTAssertTrue(text.contains("GET /two a "), text)
        XCTAssertFalse(channel.pipeline.containsHandler(type: H2CUpgradeHandler.self))
    }

    func testMalformedSettingsGet400() throws {
        let channel = try Self.makeChannel()
        defer { _ = try? channel.finish() }
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                                                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk-_8\r\n\r\n"))
        channel.embeddedEventLoop.run()
        var written = Self.drainOutbound(channel)
        XCTAssertTrue(written.readString(length: written.readableBytes)!.hasPrefix("HTTP/1.1 400 Bad Request"))
    }

    // MARK: helpers

    /// The cleartext HTTP/1.1 pipeline as `DownstreamPipeline` builds it, with ``Responder`` in
    /// place of the proxy: it answers `METHOD URI HOST BODY`.
    static func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let makeDecoder = { ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)) }
        let encoder = HTTPResponseEncoder()
        let pipelining = HTTPServerPipelineHandler()
        let responder = Responder()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(makeDecoder())
        try sync.addHandler(H2CUpgradeHandler(http1Handlers: [encoder, pipelining, responder], makeDecoder: makeDecoder,
                                              configureHTTP2: { channel in
            _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()
            ) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandlers([HTTP2FramePayloadToHTTP1ServerCodec(), Responder()])
                }
            }
        }))
        try sync.addHandlers([encoder, pipelining, responder])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return channel
    }

    static func drainOutbound(_ channel: EmbeddedChannel) -> ByteBuffer {
        var all = ByteBuffer()
        while var next = try? channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&next) }
        return all
    }

    /// Answers every request with `200` and the body `METHOD URI HOST BODY`.
    final class Responder: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        private var head: HTTPRequestHead?
        private var body = ""

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = ""
            case .body(var buffer):
                body += buffer.readString(length: buffer.readableBytes)!
            case .end:
                guard let head else { return }
                let text = "\(head.method.rawValue) \(head.uri) \(head.headers.first(name: "host") ?? "-") \(body)"
                var headers = HTTPHeaders()
                headers.add(name: "content-length", value: "\(text.utf8.count)")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))),
                              promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }

    /// One HTTP/2 frame read back from bytes a server wrote.
    struct Frame {
        var type: UInt8
        var flags: UInt8
        var streamID: UInt32
        var payload: ByteBuffer

        static func parse(_ bytes: ByteBuffer) -> [Frame] {
            var bytes = bytes
            var frames: [Frame] = []
            while bytes.readableBytes >= 9 {
                let length = Int(bytes.getInteger(at: bytes.readerIndex, as: UInt8.self)!) << 16
                    | Int(bytes.getInteger(at: bytes.readerIndex + 1, as: UInt16.self)!)
                guard bytes.readableBytes >= 9 + length else { break }
                bytes.moveReaderIndex(forwardBy: 3)
                let type: UInt8 = bytes.readInteger()!
                let flags: UInt8 = bytes.readInteger()!
                let stream: UInt32 = bytes.readInteger()!
                frames.append(Frame(type: type, flags: flags, streamID: stream & 0x7FFF_FFFF,
                                    payload: bytes.readSlice(length: length)!))
            }
            return frames
        }
    }
}

extension ChannelPipeline {
    func containsHandler<H: ChannelHandler>(type: H.Type) -> Bool {
        (try? syncOperations.context(handlerType: type)) != nil
    }
}
