import NIOCore

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
    /// `secret_file`: the key material (32 to 4096 bytes, read when the config is loaded) from
    /// which Retry tokens and stateless reset tokens are derived. `nil` = random per process.
    /// Kernels that share one (a restarted kernel, or a fleet behind one address) answer each
    /// other's clients with resets those clients recognise and accept each other's Retry tokens.
    public var secret: QUICTokenSecret?
    /// How long a NEW_TOKEN token (sent once a handshake completes) lets the client skip Retry on
    /// a later connection from the same IP address; zero = no tokens are issued.
    public var newTokenLifetime: TimeAmount = .hours(1)
    /// Accept 0-RTT (TLS early data) from resuming clients: safe methods only, replays refused
    /// within GnuTLS' 10 s window (docs/http3.md, "0-RTT"). Session tickets are issued either way.
    public var earlyData = false
    /// `qlog_dir`: write a qlog trace per connection into this directory (resolved path), for the
    /// first `qlogMaxFiles` connections of the listener; nil = no qlog.
    public var qlogDirectory: String?
    public var qlogMaxFiles = 100
    public init() {}
}

/// Key material for a QUIC listener's Retry and stateless reset tokens, with the file it came
/// from. Never printed: `description` names the file only.
public struct QUICTokenSecret: Sendable, Equatable, CustomStringConvertible {
    public static let minimumBytes = 32
    public static let maximumBytes = 4096
    public let file: String
    public let bytes: [UInt8]
    public init(file: String, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
    }
    public var description: String { "secret from \(file)" }
}
