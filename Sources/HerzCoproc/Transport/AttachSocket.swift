import CHerzSys
import Glibc

/// The credentials of the process at the other end of a unix socket (SO_PEERCRED).
public struct PeerCredentials: Equatable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// One connected attach socket (docs/coprocessor-protocol.md sections 1–2): stream-framed Cap'n
/// Proto messages, file descriptors passed with SCM_RIGHTS, and liveness (EOF = the peer is gone).
///
/// Guarantees: a frame is sent whole or the call throws; `receive` returns exactly one frame and
/// keeps any bytes past it for the next call; every received fd is returned to the caller or
/// closed, never leaked. The socket is blocking; `receive` waits at most the configured timeout.
/// Owned by one thread at a time (not thread-safe).
public final class AttachSocket {
    public private(set) var fd: Int32
    private var pending: [UInt8] = []
    private var pendingFds: [Int32] = []

    /// Wraps a connected unix stream socket; takes ownership.
    public init(fd: Int32) { self.fd = fd }

    deinit {
        close()
        for received in pendingFds { Glibc.close(received) }
    }

    /// Connects to a coprocessor's attach socket at `path`.
    public static func connect(path: String) throws -> AttachSocket {
        let fd = herz_unix_connect(path)
        guard fd >= 0 else { throw TransportError.lastError("connect(\(path))") }
        return AttachSocket(fd: fd)
    }

    public func peerCredentials() throws -> PeerCredentials {
        var credentials = PeerCredentials(pid: 0, uid: 0, gid: 0)
        guard herz_peer_credentials(fd, &credentials.pid, &credentials.uid, &credentials.gid) == 0 else {
            throw TransportError.lastError("getsockopt(SO_PEERCRED)")
        }
        return credentials
    }

    /// Bounds how long `receive` (and `send`) block: `millis` = 0 means forever.
    public func setTimeout(millis: Int) throws {
        var value = timeval(tv_sec: millis / 1000, tv_usec: (millis % 1000) * 1000)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            guard setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw TransportError.lastError("setsockopt(timeout)")
            }
        }
    }

    /// Sends `bytes` (one stream-framed message), with `fds` attached to its first byte.
    public func send(_ bytes: [UInt8], fds: [Int32] = []) throws {
        precondition(!bytes.isEmpty, "a frame has at least one byte (descriptors travel with bytes)")
        var offset = 0
        var attached = fds
        repeat {
            let n = bytes.withUnsafeBytes { buffer in
                herz_send_with_fds(fd, buffer.baseAddress! + offset, bytes.count - offset, attached, attached.count)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw errno == EPIPE || errno == ECONNRESET ? TransportError.peerClosed : TransportError.lastError("sendmsg")
            }
            offset += n
            attached = []
        } while offset < bytes.count
    }

    /// Receives one frame. `frameLength` gets the bytes received so far and returns the frame's
    /// total length once its header is complete (nil: need more); it throws for a malformed header.
    /// Frames longer than `limit` are refused. Descriptors that arrived with the frame's bytes are
    /// returned with it; the caller owns them. After a throw the stream is out of step: close it.
    public func receive(limit: Int, frameLength: (UnsafeRawBufferPointer) throws -> Int?) throws -> (bytes: [UInt8], fds: [Int32]) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        var fdSlots = [Int32](repeating: -1, count: 253)  // SCM_MAX_FD
        while true {
            if let length = try pending.withUnsafeBytes(frameLength) {
                guard length <= limit else { throw TransportError.invalidFrame("frame of \(length) bytes exceeds \(limit)") }
                if pending.count >= length {
                    let frame = Array(pending[..<length])
                    pending.removeFirst(length)
                    defer { pendingFds = [] }
                    return (frame, pendingFds)
                }
            } else if pending.count > limit {
                throw TransportError.invalidFrame("no complete frame header in \(pending.count) bytes")
            }
            var received = 0
            var truncated: Int32 = 0
            let n = chunk.withUnsafeMutableBytes { buffer in
                herz_recv_with_fds(fd, buffer.baseAddress, buffer.count, &fdSlots, fdSlots.count, &received, &truncated)
            }
            pendingFds += fdSlots[..<received]
            if n < 0 {
                if errno == EINTR { continue }
                throw errno == EAGAIN ? TransportError.system(call: "recvmsg (timed out)", errno: errno) : TransportError.lastError("recvmsg")
            }
            if n == 0 { throw TransportError.peerClosed }
            if truncated != 0 { throw TransportError.invalidFrame("file descriptors were truncated") }
            pending += chunk[..<n]
        }
    }

    /// True when the peer closed its end (EOF pending) — a non-blocking peek, for liveness checks
    /// after `poll` reported the fd readable. Bytes that arrived are kept for `receive`.
    public func peerClosed() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if n == 0 { return true }
        if n < 0 { return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR }
        return false
    }

    /// Closes a descriptor received with a frame that is being refused.
    public func closeDescriptor(_ descriptor: Int32) { Glibc.close(descriptor) }

    /// Closes the socket (idempotent): the peer sees EOF.
    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}
