/// What the supervisor asks its I/O driver to do. The driver executes actions in order and feeds the
/// results back as events; the supervisor itself never touches a socket or a clock.
public enum SupervisorAction: Equatable, Sendable {
    /// Connect to the coprocessor's unix socket and attach a new session with this id.
    case attach(sessionId: UInt64)
    /// Send the kernel's `hello` on the session's control socket.
    case sendHello(sessionId: UInt64)
    case sendHeartbeat(sessionId: UInt64, sequence: UInt64)
    /// From now on new calls go to this session (workers switch over).
    case activate(sessionId: UInt64)
    /// No session takes new calls any more: workers apply the failure policy (`wait` holds calls).
    case deactivate(reason: CoprocFailureReason)
    /// Ask the session to finish its in-flight calls and report `drained`.
    case drain(sessionId: UInt64)
    /// Tear the session down; its in-flight calls get the failure policy with `reason`.
    case close(sessionId: UInt64, reason: CoprocFailureReason)
    /// Send `refuse` to the peer before closing (handshake mismatch found on the kernel side).
    case refuse(sessionId: UInt64, reason: String)
    case log(SupervisorLogLevel, String)
}

public enum SupervisorLogLevel: Sendable, Equatable {
    case info, warning, error
}
