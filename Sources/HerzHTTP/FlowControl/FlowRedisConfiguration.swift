import NIOCore

/// Where the global limits' store (Redis) is and how a worker's connection to it behaves.
/// Every value is clamped so that no setting can make a call wait or a queue grow without bound.
public struct FlowRedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// `AUTH [username] password` when set (Redis 6 ACL users need the username).
    public var username: String?
    public var password: String?
    /// How long a TCP connect may take. Calls waiting for it still end at their own deadline.
    public var connectTimeout: TimeAmount
    /// A connection whose oldest unanswered command is overdue by this much is closed and made
    /// again after the backoff (a hung or stopped server holds commands, not the kernel).
    public var stallTimeout: TimeAmount
    /// Commands queued or unanswered on one connection; beyond, calls fail at once (`overloaded`).
    public var maxPipeline: Int
    /// After a failed connect or a lost connection, calls fail at once for this long, doubling
    /// on each further failure up to ``reconnectBackoffMax``; a successful connect resets it.
    public var reconnectBackoffInitial: TimeAmount
    public var reconnectBackoffMax: TimeAmount

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
                connectTimeout: TimeAmount = .seconds(1), stallTimeout: TimeAmount = .seconds(1), maxPipeline: Int = 1_024,
                reconnectBackoffInitial: TimeAmount = .milliseconds(10), reconnectBackoffMax: TimeAmount = .seconds(1)) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.connectTimeout = max(.milliseconds(1), connectTimeout)
        self.stallTimeout = max(.milliseconds(1), stallTimeout)
        self.maxPipeline = min(1_000_000, max(1, maxPipeline))
        self.reconnectBackoffInitial = max(.milliseconds(1), reconnectBackoffInitial)
        self.reconnectBackoffMax = max(self.reconnectBackoffInitial, reconnectBackoffMax)
    }
}
