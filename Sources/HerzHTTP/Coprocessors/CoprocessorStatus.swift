import HerzCoproc

/// What /coprocessors and `herzctl coproc list` show about one coprocessor: a copy taken by the
/// supervisor thread after each round, safe to read from any thread.
public struct CoprocessorStatus: Sendable {
    public struct Session: Sendable {
        public var id: UInt64
        public var phase: String
        public var pid: UInt32?
        public var build: String?
        public var generation: UInt64?
    }

    public var name: String
    public var endpoint: String
    /// `ready` (a session takes calls), `connecting`, or `down`.
    public var state: String
    public var activeSession: UInt64?
    public var sessions: [Session]
    public var handshakes: UInt64
    public var restarts: UInt64
    public var lastError: String?
    public var stats: CoprocStats?
    public var onFailure: String
}
