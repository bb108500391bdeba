/// The clocks of coprocessor supervision, in nanoseconds (docs/coprocessor-protocol.md sections 5–6).
/// Defaults meet the 50 ms detection target: a heartbeat every 10 ms, hung after 40 ms of silence.
public struct SupervisorTiming: Sendable, Equatable {
    public var heartbeatInterval: UInt64 = 10_000_000
    public var hungAfter: UInt64 = 40_000_000
    /// How long a handshake (attach ack + hello) may take before the attempt counts as failed.
    public var handshakeTimeout: UInt64 = 1_000_000_000
    public var backoffInitial: UInt64 = 10_000_000
    public var backoffMax: UInt64 = 1_000_000_000
    /// How long an old session may take to drain during an upgrade before it is closed anyway.
    public var drainTimeout: UInt64 = 5_000_000_000

    public init() {}
}
