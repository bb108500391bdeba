import Glibc
import HerzCoproc
import NIOCore

/// One connected, blocking unix stream socket carrying Cap'n Proto messages back to back in
/// standard stream framing (the segment table at the head of each message gives its length, so
/// the frames are length-prefixed exactly as on the rings and the attach socket).
///
/// The reading and the writing half are separate objects so one thread may read while another
/// writes; each half is owned by one thread at a time. Closing is the owner's job (`close()`).
final class FramedSocket: @unchecked Sendable {
    let fd: Int32
    let reader: FrameReader
    let writer: FrameWriter

    /// Takes ownership of `fd`.
    init(fd: Int32) {
        self.fd = fd
        self.reader = FrameReader(fd: fd)
        self.writer = FrameWriter(fd: fd)
    }

    func close() { Glibc.close(fd) }
}

/// The reading half: buffers what `read(2)` returns (several frames per call when the peer is
/// ahead) and hands out one whole frame at a time.
final class FrameReader {
    /// Frames longer than this are a broken stream (the bench's largest is ~16 KiB).
    static let frameLimit = 1 << 20
    private let fd: Int32
    private var buffer = ByteBufferAllocator().buffer(capacity: 256 * 1024)

    init(fd: Int32) { self.fd = fd }

    /// Passes the next frame to `body` (the bytes are valid only inside it), reading from the
    /// socket only when no whole frame is buffered. Nil at EOF.
    func next<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result? {
        while true {
            if let length = try bufferedFrameLength() {
                defer { buffer.moveReaderIndex(forwardBy: length) }
                return try buffer.withUnsafeReadableBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<length])) }
            }
            guard try fill() else { return nil }
        }
    }

    /// True when a whole frame is already buffered (`next` will not block).
    var hasBufferedFrame: Bool { ((try? bufferedFrameLength()) ?? nil) != nil }

    private func bufferedFrameLength() throws -> Int? {
        try buffer.withUnsafeReadableBytes { bytes in
            guard let length = try WireCodec.framedLength(bytes, limit: Self.frameLimit), length <= bytes.count else { return nil }
            return length
        }
    }

    /// One blocking read; false at EOF.
    private func fill() throws -> Bool {
        buffer.discardReadBytes()
        let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 * 1024) { space in
            while true {
                let n = read(fd, space.baseAddress, space.count)
                if n >= 0 { return n }
                if errno != EINTR { throw BenchError("read: \(String(cString: strerror(errno)))") }
            }
        }
        return count > 0
    }
}

/// The writing half: frames are encoded straight into one buffer and written with one `write(2)`
/// per `flush()`, so a burst of frames costs one system call.
final class FrameWriter {
    private let fd: Int32
    private var buffer = ByteBufferAllocator().buffer(capacity: 256 * 1024)

    init(fd: Int32) { self.fd = fd }

    func append(_ frame: KernelToCoprocessor) throws {
        try append { try WireCodec.encode(frame, into: $0) }
    }

    func append(_ answer: CoprocAnswer) throws {
        try append { try WireCodec.encode(answer, into: $0) }
    }

    /// Writes everything appended so far (blocking until the socket took it all).
    func flush() throws {
        while buffer.readableBytes > 0 {
            let n = buffer.withUnsafeReadableBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BenchError("write: \(String(cString: strerror(errno)))")
            }
            buffer.moveReaderIndex(forwardBy: n)
        }
        buffer.clear()
    }

    private func append(_ encode: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        var room = 64 * 1024
        while true {
            do {
                _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room, encode)
                return
            } catch WireError.bufferTooSmall(let needed) where needed > room {
                room = needed
            }
        }
    }
}
