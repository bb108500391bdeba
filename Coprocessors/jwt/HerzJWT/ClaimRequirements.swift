/// What a provider demands of a verified token's claims (RFC 7519 section 4.1): the time window
/// (`exp`, `nbf`, with clock skew), the issuer and the audience.
///
/// Guarantees: time failures and wrongly typed claims are 401 rejections, a wrong issuer or
/// audience is a 403 rejection (``JWTRejection/isForbidden``), and the time checks come first.
/// A value; any thread.
public struct ClaimRequirements: Sendable, Equatable {
    /// The required `iss`, or nil for any.
    public var issuer: String?
    /// `aud` must name at least one of these; empty accepts any audience.
    public var audiences: [String]
    /// Seconds of tolerance on `exp` and `nbf`.
    public var clockSkewSeconds: Double
    /// Refuse tokens without `exp`.
    public var requireExpiration: Bool

    public init(issuer: String? = nil, audiences: [String] = [], clockSkewSeconds: Double = 60, requireExpiration: Bool = false) {
        self.issuer = issuer
        self.audiences = audiences
        self.clockSkewSeconds = clockSkewSeconds
        self.requireExpiration = requireExpiration
    }

    /// The first requirement `claims` fail at `now` (seconds since the epoch), or nil.
    public func check(_ claims: JSONObject, now: Double) -> JWTRejection? {
        switch claims["exp"] {
        case nil:
            if requireExpiration { return .missingExpiration }
        case .number(let exp)?:
            if now >= exp.value + clockSkewSeconds { return .expired }
        default:
            return .malformed("exp is not a number")
        }
        switch claims["nbf"] {
        case nil: break
        case .number(let nbf)?:
            if now + clockSkewSeconds < nbf.value { return .notYetValid }
        default:
            return .malformed("nbf is not a number")
        }
        if let issuer {
            switch claims["iss"] {
            case .string(let iss)?: if iss != issuer { return .issuerMismatch }
            case nil: return .issuerMismatch
            default: return .malformed("iss is not a string")
            }
        }
        if !audiences.isEmpty {
            let named: [String]
            switch claims["aud"] {
            case .string(let aud)?: named = [aud]
            case .array(let items)?:
                let strings = items.compactMap(\.string)
                guard strings.count == items.count else { return .malformed("aud is not a list of strings") }
                named = strings
            case nil: return .audienceMismatch
            default: return .malformed("aud is not a string or a list of strings")
            }
            if !named.contains(where: audiences.contains) { return .audienceMismatch }
        }
        return nil
    }
}
