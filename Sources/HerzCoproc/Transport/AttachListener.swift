import CHerzSys
import Glibc

/// A coprocessor's listening attach socket at `PATH` (docs/coprocessor-protocol.md sections 1 and 6).
///
/// Guarantees: the socket is bound to `PATH.<pid>.tmp`, given mode 0660 and renamed over `PATH`, so
/// a new build takes a path over atomically and a kernel never sees a half-set-up socket; `close()`
/// unlinks `PATH` only while it is still this listener's socket (not a newer build's). The listening
/// fd is non-blocking: `accept()` returns nil when no kernel waits. Owned by the server's main thread.
public final class AttachListener {
    public let path: String
    public private(set) var fd: Int32
    private let inode: ino_t

    /// Binds, chmods and renames as above, then listens.
    public init(path: String, backlog: Int32 = 16) throws {
        let temporary = "\(path).\(getpid()).tmp"
        unlink(temporary)
        let fd = herz_unix_bind(temporary)
        guard fd >= 0 else { throw TransportError.lastError("bind(\(temporary))") }
        do {
            guard chmod(temporary, 0o660) == 0 else { throw TransportError.lastError("chmod(\(temporary))") }
            guard Glibc.listen(fd, backlog) == 0 else { throw TransportError.lastError("listen") }
            var info = stat()
            guard stat(temporary, &info) == 0 else { throw TransportError.lastError("stat(\(temporary))") }
            guard rename(temporary, path) == 0 else { throw TransportError.lastError("rename(\(temporary), \(path))") }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            self.inode = info.st_ino
        } catch {
            Glibc.close(fd)
            unlink(temporary)
            throw error
        }
        self.path = path
        self.fd = fd
    }

    deinit { close() }

    /// Accepts one pending connection (a blocking socket), or nil when none is pending.
    public func accept() throws -> AttachSocket? {
        while true {
            let connection = herz_accept_cloexec(fd)
            if connection >= 0 { return AttachSocket(fd: connection) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK, ECONNABORTED: return nil
            default: throw TransportError.lastError("accept")
            }
        }
    }

    /// True while `PATH` is still this listener's socket (a newer build has not taken it over).
    public var ownsPath: Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_ino == inode
    }

    /// Stops listening (idempotent) and unlinks `PATH` if it is still ours.
    public func close() {
        guard fd >= 0 else { return }
        if ownsPath { unlink(path) }
        Glibc.close(fd)
        fd = -1
    }
}
