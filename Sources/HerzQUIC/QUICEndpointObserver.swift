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
}
