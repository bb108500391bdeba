import CHerzSys

/// A non-blocking, close-on-exec pipe, for waking a thread that sleeps in `poll`. Stateless factory.
public enum NonBlockingPipe {
    /// Returns (read end, write end); the caller owns both.
    public static func make() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard herz_pipe_nonblocking(&fds) == 0 else { throw TransportError.lastError("pipe2") }
        return (fds[0], fds[1])
    }
}
