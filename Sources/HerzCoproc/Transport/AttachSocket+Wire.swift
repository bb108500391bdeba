/// `AttachFrame`s on an attach socket: Cap'n Proto stream framing via `WireCodec`.
extension AttachSocket {
    /// Frames larger than this are refused (an attach frame is a few dozen bytes).
    public static let attachFrameLimit = 64 * 1024

    /// Sends `frame` with `fds` (Attach: the memfd, then one doorbell per worker).
    public func send(_ frame: AttachFrame, fds: [Int32] = []) throws {
        try send(WireCodec.encode(frame), fds: fds)
    }

    /// Receives one `AttachFrame` and the descriptors that came with it (the caller owns them).
    /// On a decode failure the descriptors are closed and the error thrown.
    public func receiveFrame() throws -> (frame: AttachFrame, fds: [Int32]) {
        let (bytes, fds) = try receive(limit: Self.attachFrameLimit) { try WireCodec.framedLength($0, limit: Self.attachFrameLimit) }
        do {
            return (try bytes.withUnsafeBytes(WireCodec.decodeAttachFrame), fds)
        } catch {
            for fd in fds { closeDescriptor(fd) }
            throw error
        }
    }
}
