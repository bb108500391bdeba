/// Where one session with a coprocessor process stands.
public enum CoprocSessionPhase: String, Sendable, Equatable {
    /// Connecting to the unix socket, sending `attach`, waiting for `attachAck`.
    case attaching
    /// `attachAck` received; `hello` sent, waiting for the coprocessor's `hello`.
    case handshaking
    /// Handshake done; may take calls (it is the active session unless an upgrade replaced it).
    case ready
    /// Told to drain: takes no new calls, finishes the ones in flight.
    case draining
}

/// What the supervisor knows about one session.
public struct CoprocSessionState: Sendable, Equatable {
    public let sessionId: UInt64
    public internal(set) var phase: CoprocSessionPhase
    public internal(set) var startedAt: UInt64
    /// The inode of the socket path this session was attached through (upgrade detection).
    public internal(set) var socketInode: UInt64?
    public internal(set) var peer: Hello?
    public internal(set) var lastHeartbeatAck: UInt64
    public internal(set) var heartbeatSequence: UInt64 = 0
    public internal(set) var lastHeartbeatSent: UInt64 = 0
    public internal(set) var drainStartedAt: UInt64?
}
