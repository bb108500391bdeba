import NIOCore
import NIOHPACK

/// The HTTP/2 frames a client would have sent for an upgrade request had it spoken HTTP/2 from
/// the start: HEADERS (and CONTINUATION) for stream 1, then DATA with the body; the last frame
/// carries END_STREAM.
///
/// Pure: bytes in, bytes out, tested without a channel. ``H2CPrefaceSplicer`` places them right
/// after the client's first SETTINGS frame so NIO's HTTP/2 server sees stream 1 as if the client
/// had opened it (NIOHTTP2 has no API to open a server-side stream 1).
enum H2CStreamOneFrames {
    /// The HTTP/2 default SETTINGS_MAX_FRAME_SIZE; the server accepts no larger frame before the
    /// client has seen its own SETTINGS, so every frame here stays within it.
    static let maxFrameSize = 16_384

    enum FrameType: UInt8 { case data = 0x0, headers = 0x1, settings = 0x4, continuation = 0x9 }
    static let endStream: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4

    /// Encodes stream 1. The header block uses only literals that are never added to the HPACK
    /// dynamic table, so the server's decoder state stays exactly what the real client expects.
    static func encode(_ request: H2CUpgradeRequest, body: ByteBuffer,
                       allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        var encoder = HPACKEncoder(allocator: allocator)
        try encoder.beginEncoding(allocator: allocator)
        for (name, value) in request.http2Headers {
            try encoder.appendNonIndexed(header: name, value: value)
        }
        var block = try encoder.endEncoding()

        var out = allocator.buffer(capacity: block.readableBytes + body.readableBytes + 9 * 4)
        let hasBody = body.readableBytes > 0
        var first = true
        repeat {
            var fragment = block.readSlice(length: min(block.readableBytes, maxFrameSize))!
            var flags: UInt8 = block.readableBytes == 0 ? endHeaders : 0
            if first && !hasBody { flags |= endStream }
            writeFrame(first ? .headers : .continuation, flags: flags, streamID: 1, payload: &fragment, to: &out)
            first = false
        } while block.readableBytes > 0

        var remaining = body
        while remaining.readableBytes > 0 {
            var chunk = remaining.readSlice(length: min(remaining.readableBytes, maxFrameSize))!
            writeFrame(.data, flags: remaining.readableBytes == 0 ? endStream : 0, streamID: 1, payload: &chunk, to: &out)
        }
        return out
    }

    /// Writes one frame: 24-bit length, type, flags, 31-bit stream id, payload (RFC 9113 §4.1).
    static func writeFrame(_ type: FrameType, flags: UInt8, streamID: UInt32, payload: inout ByteBuffer,
                           to out: inout ByteBuffer) {
        writeFrameHeader(type.rawValue, length: payload.readableBytes, flags: flags, streamID: streamID, to: &out)
        out.writeBuffer(&payload)
    }

    static func writeFrameHeader(_ type: UInt8, length: Int, flags: UInt8, streamID: UInt32, to out: inout ByteBuffer) {
        out.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
        out.writeInteger(UInt16(truncatingIfNeeded: length))
        out.writeInteger(type)
        out.writeInteger(flags)
        out.writeInteger(streamID & 0x7FFF_FFFF)
    }
}
