import HerzCore

/// What a QUIC endpoint reports for metrics. Called on the endpoint's event loop, once per event
/// (per datagram for the packet counters), so implementations must be cheap (relaxed atomics).
public protocol QUICEndpointObserver: AnyObject {
    func quicEvent(_ event: QUICEndpointEvent, listener: String)
}

public enum QUICEndpointEvent: Sendable {
    case datagramReceived(bytes: Int)
    case datagramSent(bytes: Int)
    case datagramDropped(QUICDropReason)
    case connectionOpened
    case connectionClosed
    case handshakeSucceeded
    case handshakeFailed
    case retrySent
    case versionNegotiationSent
    case statelessResetSent
    case connectionRefused
    case idleTimeout
    case streamOpened
    /// A NEW_TOKEN token was sent to a client whose handshake completed.
    case addressTokenIssued
    /// An Initial carried a NEW_TOKEN token: valid (the client skipped Retry) or not.
    case addressTokenChecked(valid: Bool)
    case earlyData(QUICEarlyDataOutcome)
    /// A connection that completed its handshake ended; its smoothed RTT (RFC 9002 §5.3) then.
    case connectionRTT(smoothedNanos: UInt64)
    /// A stream closed after this many of its packets carrying STREAM frames were declared lost
    /// (and their data sent again): the retransmission count ngtcp2 0.12 exposes.
    case streamPacketsLost(Int)
}

/// What became of 0-RTT (docs/http3.md, "0-RTT").
public enum QUICEarlyDataOutcome: String, Sendable, CaseIterable {
    /// A handshake completed with the client's early data accepted.
    case accepted
    /// A ClientHello seen before in the anti-replay window (or with the cache full): its early
    /// data was refused, the connection continues in 1-RTT.
    case replayRefused = "replay_refused"
    /// A request in early data with an unsafe method, answered 425.
    case tooEarly = "too_early"
}
