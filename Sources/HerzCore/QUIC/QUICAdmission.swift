/// Whether a new QUIC connection may start, and whether the client must first prove its address
/// with a Retry round trip (RFC 9000 §8.1). Pure: the caller supplies the counts and has already
/// classified the Initial's token; it then performs the decision (and verifies tokens itself).
public struct QUICAdmission: Sendable, Equatable {
    /// What the Initial packet carried in its token field.
    public enum Token: Equatable, Sendable {
        case none
        /// A token from one of Herz's Retry packets (still to be verified by the caller).
        case retry
        /// A token Herz sent in a NEW_TOKEN frame on an earlier connection (still to be verified).
        case addressToken
        /// Anything else (garbage, another server's token): ignored.
        case other
    }

    public enum Decision: Equatable, Sendable {
        case accept
        /// Verify the Retry token: valid → accept with the original destination ID it carries;
        /// invalid → close statelessly with INVALID_TOKEN.
        case verifyRetryToken
        /// Verify the NEW_TOKEN token: valid → accept with the address validated (no Retry, no
        /// anti-amplification limit); invalid or expired → decide again with `.none` (RFC 9000
        /// §8.1.3: a bad NEW_TOKEN token must not fail the connection, it only saves no round trip).
        case verifyAddressToken
        /// Answer with a Retry packet carrying a fresh token; keep no state.
        case sendRetry
        /// Close statelessly with CONNECTION_REFUSED (over the connection limit).
        case refuse
    }

    public var retry: QUICRetryMode
    /// Connections (handshaking or established) one worker serves on this listener.
    public var maxConnections: Int

    public init(retry: QUICRetryMode, maxConnections: Int) {
        self.retry = retry
        self.maxConnections = maxConnections
    }

    public func decide(token: Token, connections: Int, handshakesInProgress: Int) -> Decision {
        if connections >= maxConnections { return .refuse }
        if token == .retry { return .verifyRetryToken }
        if token == .addressToken { return .verifyAddressToken }
        switch retry {
        case .off: return .accept
        case .always: return .sendRetry
        case .underLoad(let threshold): return handshakesInProgress >= threshold ? .sendRetry : .accept
        }
    }
}
