/// When a QUIC listener makes clients prove their address with a Retry before it keeps any state
/// for them (RFC 9000 §8.1): costs one round trip, defeats spoofed-source handshake floods.
public enum QUICRetryMode: Sendable, Equatable {
    case off
    case always
    /// Only while at least this many handshakes are in progress on the worker.
    case underLoad(handshakes: Int)
}

/// The `quic:` block of a `protocol: quic` listener. Stream limits, idle timeout, header and
/// buffer limits come from the listener's `limits:` like every other protocol.
public struct QUICListenerConfig: Sendable, Equatable {
    public var retry: QUICRetryMode = .underLoad(handshakes: 64)
    /// Connections one worker serves on this listener; further Initials are refused.
    public var maxConnections: Int = 10_000
    /// Answer short-header packets for forgotten connections with a stateless reset.
    public var statelessReset: Bool = true
    /// Flow-control window per request stream (bytes the client may send ahead of what Herz has
    /// passed on); the connection window is 16 × this.
    public var streamWindowBytes: Int = 256 * 1024
    public init() {}
}
