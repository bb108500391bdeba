import CHerzSys

/// SIGTERM and SIGINT as a readable fd (a self-pipe filled by an async-signal-safe handler), so a
/// server's poll loop sees them like any other event. Process-wide; install from the main thread.
public enum TerminationSignals {
    /// Installs the handlers (once) and returns the pipe's read end; read and discard its bytes.
    public static func install() throws -> Int32 {
        let fd = herz_termination_pipe()
        guard fd >= 0 else { throw TransportError.lastError("pipe2") }
        return fd
    }
}
