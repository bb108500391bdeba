import HerzCore
import NIOCore
import NIOHTTP1

/// How the body of an outgoing HTTP/1.x message is delimited on the wire.
enum HTTP1BodyFraming: Equatable {
    /// The message has no body (1xx/204/304, a response to `HEAD`, a request that ended with its head):
    /// body bytes are never written.
    case none
    /// `content-length` delimits the body: bytes are written as they are.
    case contentLength
    /// `transfer-encoding: chunked`.
    case chunked
    /// HTTP/1.0 response without `content-length`: the end of the body is the end of the connection,
    /// so the connection must close after it.
    case closeDelimited
}

/// Serialises HTTP/1.x messages (NIO's head types) into one output buffer per flush.
///
/// It replaces NIO's `HTTPRequestEncoder`/`HTTPResponseEncoder` on Herz's HTTP/1.1 connections: those
/// are extra channel handlers that box every part in `NIOAny`, allocate a buffer per head and hand
/// head, body and end to the socket as separate writes. Here the head, small bodies and the end of a
/// message are appended to one ``pending`` buffer, which the owning handler writes once per flush;
/// the buffer's storage is reused from message to message once the socket has written it.
///
/// Framing rules (RFC 9112 §6): a message whose head declares `content-length` is written as is
/// (any `transfer-encoding` dropped); responses with a status that has no body (1xx, 204, 304) lose
/// both framing headers; a response to `HEAD` keeps its headers but never writes a body; a response
/// without `content-length` is chunked for HTTP/1.1 clients and close-delimited for HTTP/1.0 ones
/// (the caller must then close the connection); a request is chunked when it has a body and no
/// `content-length`, and a `POST`/`PUT`/`PATCH` without a body gets `content-length: 0`. Headers
/// are written in order, as they are: validation happened when they were parsed.
///
/// Value type owned by one connection handler on its event loop.
struct HTTP1MessageWriter {
    /// Bodies up to this size are copied into ``pending`` (one write per flush); larger ones are
    /// written as their own buffer (no copy).
    static let copyLimit = 4096
    /// Output buffer storage above this capacity is not kept for the next message.
    static let keepCapacityLimit = 64 * 1024

    /// Bytes serialised but not yet handed to the channel.
    private(set) var pending: ByteBuffer
    /// Framing of the message being written.
    private(set) var framing: HTTP1BodyFraming = .none

    init(allocator: ByteBufferAllocator) {
        pending = allocator.buffer(capacity: 512)
    }

    var hasPending: Bool { pending.readableBytes > 0 }

    /// Hands the pending bytes over (for a channel write) and keeps the storage for reuse: once the
    /// channel has written and released them, the next `clear()` finds the storage unique again.
    mutating func takePending() -> ByteBuffer? {
        guard pending.readableBytes > 0 else { return nil }
        let out = pending
        if pending.capacity > Self.keepCapacityLimit {
            pending = ByteBufferAllocator().buffer(capacity: 512)
        } else {
            pending.moveReaderIndex(to: pending.writerIndex)
        }
        return out
    }

    /// Rewinds an emptied buffer before appending, reusing its storage when nobody else holds it.
    private mutating func prepare() {
        if pending.readableBytes == 0 && pending.readerIndex > 0 { pending.clear() }
    }

    // MARK: heads

    /// Writes a response head. `requestIsHEAD`: the response answers a `HEAD` request (no body follows).
    /// `forceClose` writes `connection: close` in place of any `connection` header. Returns whether the
    /// connection must close after this response (close-delimited body).
    mutating func writeResponseHead(_ head: HTTPResponseHead, requestIsHEAD: Bool, forceClose: Bool) -> Bool {
        prepare()
        let headers = head.headers
        let hasContentLength = headers.contains(name: "content-length")
        let skipFraming: Bool   // drop content-length and transfer-encoding
        var addChunked = false
        if !head.status.mayHaveResponseBody {
            framing = .none
            skipFraming = true
        } else if hasContentLength {
            framing = requestIsHEAD ? .none : .contentLength
            skipFraming = false
        } else if head.version.major == 1 && head.version.minor >= 1 {
            framing = requestIsHEAD ? .none : .chunked
            addChunked = true
            skipFraming = true
        } else {
            framing = requestIsHEAD ? .none : .closeDelimited
            skipFraming = true
        }
        let mustClose = framing == .closeDelimited
        writeStatusLine(head.version, head.status)
        // `transfer-encoding` always goes: the framing written is decided here.
        writeHeaders(headers, dropContentLength: skipFraming, dropConnection: forceClose || mustClose,
                     dropTransferEncodingOnly: true)
        if addChunked { pending.writeStaticString("transfer-encoding: chunked\r\n") }
        if forceClose || mustClose { pending.writeStaticString("connection: close\r\n") }
        pending.writeStaticString("\r\n")
        return mustClose
    }

    /// Writes an informational `100 Continue`.
    mutating func writeContinue() {
        prepare()
        pending.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
    }

    /// Writes a request head. `hasBody`: body parts (or trailers) will follow.
    mutating func writeRequestHead(_ head: HTTPRequestHead, hasBody: Bool) {
        prepare()
        let headers = head.headers
        let hasContentLength = headers.contains(name: "content-length")
        var addChunked = false, addZeroLength = false
        if hasContentLength {
            framing = hasBody ? .contentLength : .none
        } else if hasBody {
            framing = .chunked
            addChunked = true
        } else {
            framing = .none
            switch head.method {
            case .POST, .PUT, .PATCH: addZeroLength = true
            default: break
            }
        }
        writeString(head.method.rawValue)
        pending.writeInteger(UInt8(ascii: " "))
        writeString(head.uri)
        if head.version.major == 1 && head.version.minor == 0 {
            pending.writeStaticString(" HTTP/1.0\r\n")
        } else {
            pending.writeStaticString(" HTTP/1.1\r\n")
        }
        writeHeaders(headers, dropContentLength: false, dropConnection: false, dropTransferEncodingOnly: true)
        if addChunked { pending.writeStaticString("transfer-encoding: chunked\r\n") }
        if addZeroLength { pending.writeStaticString("content-length: 0\r\n") }
        pending.writeStaticString("\r\n")
    }

    // MARK: bodies and ends

    /// Appends a body part in the current framing. Buffers up to ``copyLimit`` bytes are copied into
    /// ``pending``; anything else (larger buffers, file regions) comes back in ``HTTP1BodyWrites`` for
    /// the caller to write in order — after this call returns: a channel write can report
    /// writability synchronously, and the handler that then flushes must find the writer idle.
    mutating func appendBody(_ part: IOData) -> HTTP1BodyWrites {
        let count = part.readableBytes
        guard count > 0, framing != .none else { return HTTP1BodyWrites() }
        prepare()
        if framing == .chunked {
            writeHex(count)
            pending.writeStaticString("\r\n")
        }
        if case .byteBuffer(var data) = part, count <= Self.copyLimit {
            pending.writeBuffer(&data)
            if framing == .chunked { pending.writeStaticString("\r\n") }
            return HTTP1BodyWrites()
        }
        return HTTP1BodyWrites(before: takePending(), body: part,
                               after: framing == .chunked ? Self.crlf : nil)
    }

    private static let crlf = ByteBuffer(staticString: "\r\n")

    /// Ends the message: the last chunk and trailers when chunked (trailers are dropped otherwise:
    /// HTTP/1.1 has nowhere else to put them).
    mutating func writeEnd(_ trailers: HTTPHeaders?) {
        defer { framing = .none }
        guard framing == .chunked else { return }
        prepare()
        pending.writeStaticString("0\r\n")
        if let trailers { writeHeaders(trailers, dropContentLength: false, dropConnection: false) }
        pending.writeStaticString("\r\n")
    }

    // MARK: pieces

    private mutating func writeStatusLine(_ version: HTTPVersion, _ status: HTTPResponseStatus) {
        if version.major == 1 && version.minor == 0 {
            pending.writeStaticString("HTTP/1.0 ")
        } else {
            if status == .ok {
                pending.writeStaticString("HTTP/1.1 200 OK\r\n")
                return
            }
            pending.writeStaticString("HTTP/1.1 ")
        }
        let code = Int(status.code)
        pending.writeInteger(UInt8(truncatingIfNeeded: 48 + code / 100 % 10))
        pending.writeInteger(UInt8(truncatingIfNeeded: 48 + code / 10 % 10))
        pending.writeInteger(UInt8(truncatingIfNeeded: 48 + code % 10))
        pending.writeInteger(UInt8(ascii: " "))
        writeString(status.reasonPhrase)
        pending.writeStaticString("\r\n")
    }

    /// Writes `name: value\r\n` lines. `dropContentLength` drops both framing headers;
    /// `dropTransferEncodingOnly` drops `transfer-encoding` alone; `dropConnection` drops `connection`.
    ///
    /// Sizes everything first, then copies the bytes through one raw pointer: one capacity check
    /// for the whole block instead of four per header.
    private mutating func writeHeaders(_ headers: HTTPHeaders, dropContentLength: Bool, dropConnection: Bool,
                                       dropTransferEncodingOnly: Bool = false) {
        let dropAny = dropContentLength || dropTransferEncodingOnly || dropConnection
        func dropped(_ name: String) -> Bool {
            guard dropAny else { return false }
            switch name.utf8.count {
            case 17: return (dropContentLength || dropTransferEncodingOnly) && ProxyHeaderPolicy.equalsLowercase(name, "transfer-encoding")
            case 14: return dropContentLength && ProxyHeaderPolicy.equalsLowercase(name, "content-length")
            case 10: return dropConnection && ProxyHeaderPolicy.equalsLowercase(name, "connection")
            default: return false
            }
        }
        var size = 0
        for (name, value) in headers where !dropped(name) { size += name.utf8.count + value.utf8.count + 4 }
        guard size > 0 else { return }
        pending.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            var at = 0
            func copy(_ string: String) {
                var string = string
                string.withUTF8 { bytes in
                    if let base = bytes.baseAddress {
                        (out.baseAddress! + at).copyMemory(from: base, byteCount: bytes.count)
                    }
                    at += bytes.count
                }
            }
            func copy(_ a: UInt8, _ b: UInt8) {
                out[at] = a
                out[at + 1] = b
                at += 2
            }
            for (name, value) in headers where !dropped(name) {
                copy(name)
                copy(UInt8(ascii: ":"), UInt8(ascii: " "))
                copy(value)
                copy(UInt8(ascii: "\r"), UInt8(ascii: "\n"))
            }
            return at
        }
    }

    @inline(__always)
    private mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { _ = pending.writeBytes($0) }
    }

    private mutating func writeHex(_ value: Int) {
        var digits = 0
        var rest = value
        repeat { digits += 1; rest >>= 4 } while rest > 0
        var shift = (digits - 1) * 4
        while shift >= 0 {
            let nibble = (value >> shift) & 0xF
            pending.writeInteger(UInt8(truncatingIfNeeded: nibble < 10 ? 48 + nibble : 87 + nibble))
            shift -= 4
        }
    }
}

/// Writes a body part needs besides the writer's pending bytes, in order: the pending bytes before
/// it, the part itself (not copied) and the chunk's closing CRLF.
struct HTTP1BodyWrites {
    var before: ByteBuffer?
    var body: IOData?
    var after: ByteBuffer?

    /// Writes them through `context`, towards the socket (not flushed).
    func write(through context: ChannelHandlerContext) {
        if let before { context.write(NIOAny(IOData.byteBuffer(before)), promise: nil) }
        if let body { context.write(NIOAny(body), promise: nil) }
        if let after { context.write(NIOAny(IOData.byteBuffer(after)), promise: nil) }
    }
}
