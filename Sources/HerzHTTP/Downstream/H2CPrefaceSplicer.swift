import NIOCore

/// Splices the upgrade request into the client's first HTTP/2 bytes after `101 Switching
/// Protocols`: waits for the connection preface and the first frame (which RFC 9113 §3.4 makes a
/// SETTINGS frame), then releases, in order,
///
/// 1. the preface;
/// 2. that SETTINGS frame, with the `HTTP2-Settings` parameters put in front of its own — the
///    server applies the upgrade's settings first and the frame's after, as RFC 7540 §3.2.1
///    orders them, and acknowledges both with the one SETTINGS ACK the client waits for;
/// 3. the stream 1 frames (``H2CStreamOneFrames``);
/// 4. whatever else the client sent.
///
/// If the bytes are not a preface and a SETTINGS frame, they are released unchanged without the
/// stream 1 frames: the HTTP/2 handler then fails the connection as it would for any client.
///
/// Pure value, owned by ``H2CStreamOneInjector`` on the connection's event loop.
struct H2CPrefaceSplicer {
    /// What the bytes so far allow.
    enum Result {
        /// Not enough bytes yet to see the whole first frame.
        case needMoreBytes
        /// The bytes to give the HTTP/2 handler; the splicer is done.
        case release(ByteBuffer)
    }

    static let preface = HTTPProtocolSniffer.preface
    static let frameHeaderLength = 9

    private let settingsPayload: [UInt8]
    private let streamOne: ByteBuffer
    private var buffered = ByteBuffer()

    init(settingsPayload: [UInt8], streamOne: ByteBuffer) {
        self.settingsPayload = settingsPayload
        self.streamOne = streamOne
    }

    mutating func receive(_ bytes: ByteBuffer) -> Result {
        var bytes = bytes
        buffered.writeBuffer(&bytes)
        let prefaceLength = Self.preface.count
        let seen = buffered.getBytes(at: buffered.readerIndex, length: min(buffered.readableBytes, prefaceLength))!
        guard seen == Array(Self.preface[0..<seen.count]) else { return .release(buffered) }
        let headerStart = buffered.readerIndex + prefaceLength
        guard buffered.readableBytes >= prefaceLength + Self.frameHeaderLength,
              let lengthHigh = buffered.getInteger(at: headerStart, as: UInt8.self),
              let lengthLow = buffered.getInteger(at: headerStart + 1, as: UInt16.self),
              let type = buffered.getInteger(at: headerStart + 3, as: UInt8.self),
              let flags = buffered.getInteger(at: headerStart + 4, as: UInt8.self),
              let streamID = buffered.getInteger(at: headerStart + 5, as: UInt32.self)
        else { return .needMoreBytes }
        let length = Int(lengthHigh) << 16 | Int(lengthLow)
        guard type == H2CStreamOneFrames.FrameType.settings.rawValue, flags & 0x1 == 0, streamID & 0x7FFF_FFFF == 0,
              length % 6 == 0, length <= H2CStreamOneFrames.maxFrameSize
        else { return .release(buffered) }
        guard buffered.readableBytes >= prefaceLength + Self.frameHeaderLength + length else { return .needMoreBytes }

        var input = buffered
        var out = ByteBuffer()
        out.reserveCapacity(input.readableBytes + settingsPayload.count + streamOne.readableBytes + Self.frameHeaderLength)
        var prefaceBytes = input.readSlice(length: prefaceLength)!
        out.writeBuffer(&prefaceBytes)
        input.moveReaderIndex(forwardBy: Self.frameHeaderLength)
        var ownSettings = input.readSlice(length: length)!
        // The merged frame must fit the default frame size; if it would not (an absurd number of
        // settings), the upgrade's settings are left out and the frame's own still apply.
        let merged = length + settingsPayload.count <= H2CStreamOneFrames.maxFrameSize
        H2CStreamOneFrames.writeFrameHeader(type, length: merged ? length + settingsPayload.count : length,
                                            flags: flags, streamID: 0, to: &out)
        if merged { out.writeBytes(settingsPayload) }
        out.writeBuffer(&ownSettings)
        var frames = streamOne
        out.writeBuffer(&frames)
        out.writeBuffer(&input)
        buffered = ByteBuffer()
        return .release(out)
    }
}
