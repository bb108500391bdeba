import HerzCoprocSDK

/// Which message of an exchange a call is about, with what differs between the two: the status of
/// the local reply when its ciphertext is refused (400: the client sent it; 502: the upstream did)
/// and the header that carries its cookies.
public enum MessageDirection: String, Sendable, CaseIterable {
    case request, response

    /// The direction of a call's phase.
    init(_ phase: CallPhase) {
        switch phase {
        case .requestHeaders, .requestBody, .requestTrailers: self = .request
        case .responseHeaders, .responseBody, .responseTrailers: self = .response
        }
    }

    public var rejectionStatus: UInt16 { self == .request ? 400 : 502 }

    /// `cookie` on requests, `set-cookie` on responses.
    public var cookieHeader: String { self == .request ? "cookie" : "set-cookie" }
}
