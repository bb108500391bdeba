import CHerzSys
import Glibc

/// One end of a worker's doorbell socketpair (docs/coprocessor-protocol.md section 3, "Wake-ups").
///
/// Guarantees: the fd is non-blocking and closed exactly once (on `close()` or deinit); `ring()`
/// never blocks and never raises SIGPIPE. Owned by the thread that serves its worker's rings; the
/// fd may be handed to `poll` by that thread. It may be handed over to another thread once
/// (hence `Sendable`), and is then used there only.
public final class Doorbell: @unchecked Sendable {
    /// What `drain()` found.
    public enum DrainResult: Equatable {
        /// Every pending wake-up byte was discarded (`bytes` of them, maybe 0); the peer is alive.
        case drained(bytes: Int)
        /// The other end is closed: the peer is gone.
        case peerGone
    }

    public private(set) var fd: Int32

    /// Wraps an fd (made non-blocking here); takes ownership.
    public init(fd: Int32) {
        self.fd = fd
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    deinit { close() }

    /// A connected pair (kernel end, coprocessor end) from one non-blocking unix stream socketpair.
    public static func pair() throws -> (Doorbell, Doorbell) {
        var fds: [Int32] = [-1, -1]
        guard herz_socketpair_nonblocking(&fds) == 0 else { throw TransportError.lastError("socketpair") }
        return (Doorbell(fd: fds[0]), Doorbell(fd: fds[1]))
    }

    /// Writes one wake-up byte. Returns `false` when the peer is gone (EPIPE/ECONNRESET); a full
    /// socket buffer (EAGAIN) counts as success: wake-ups are already pending.
    @discardableResult
    public func ring() -> Bool {
        var byte: UInt8 = 1
        while true {
            let n = Glibc.send(fd, &byte, 1, Int32(MSG_NOSIGNAL))
            if n == 1 { return true }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return true
            default: return false
            }
        }
    }

    /// Reads and discards every pending byte without blocking; reports EOF as `.peerGone`.
    public func drain() -> DrainResult {
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var total = 0
        while true {
            let n = withUnsafeMutableBytes(of: &buffer) { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { total += n; continue }
            if n == 0 { return .peerGone }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .drained(bytes: total)
            default: return .peerGone
            }
        }
    }

    /// Closes the fd (idempotent). The peer sees EOF.
    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// Gives up ownership of the fd (e.g. after sending it to the peer process) and returns it.
    public func release() -> Int32 {
        let owned = fd
        fd = -1
        return owned
    }
}
