/// Why a request's token was not accepted. Each case is something an operator or a client can act
/// on; none carries token contents or key material, so every case may be logged and its
/// ``reason`` sent to the client.
public enum JWTRejection: Error, Equatable, Sendable {
    /// No token in any location the required providers read.
    case missing
    /// The token is longer than `max_token_bytes`; it was not decoded.
    case tooLarge(bytes: Int, limit: Int)
    /// Not a JWS compact serialization, bad base64url, bad or duplicate-member JSON, a header or
    /// claim of the wrong type.
    case malformed(String)
    /// `alg: none` (in any letter case): unsecured tokens are never accepted.
    case algorithmNone
    /// An HMAC algorithm (HS256/384/512): herz-jwt holds no symmetric keys, so these are always
    /// refused, which is what defeats the "public key used as HMAC secret" confusion.
    case symmetricAlgorithm(String)
    case unsupportedAlgorithm(String)
    /// The header lists `crit` extensions; herz-jwt understands none (RFC 7515 section 4.1.11).
    case unsupportedCritical([String])
    /// No key of the provider's JWKS has the token's `kid`.
    case unknownKeyID(String)
    /// The key with the token's `kid` is of another type than `alg` needs (or declares another `alg`).
    case algorithmKeyMismatch(algorithm: String)
    /// The token has no `kid` and the JWKS has no key for its `alg`.
    case noKeyForAlgorithm(String)
    /// The provider's JWKS file could not be loaded.
    case keysUnavailable
    case badSignature
    case expired
    case notYetValid
    /// `require_expiration` is set and the token has no `exp`.
    case missingExpiration
    /// A valid token from another issuer than the provider's `issuer`.
    case issuerMismatch
    /// A valid token whose `aud` names none of the provider's `audiences`.
    case audienceMismatch

    /// 401 for a missing or unverifiable token, 403 for a verified token that fails a claim
    /// requirement (`iss`, `aud`).
    public var status: UInt16 { isForbidden ? 403 : 401 }

    public var isForbidden: Bool {
        switch self {
        case .issuerMismatch, .audienceMismatch: return true
        default: return false
        }
    }

    /// A short machine-readable reason (local reply `reason`, logs, metrics).
    public var code: String {
        switch self {
        case .missing: return "jwt_missing"
        case .tooLarge: return "jwt_too_large"
        case .malformed: return "jwt_malformed"
        case .algorithmNone: return "jwt_alg_none"
        case .symmetricAlgorithm: return "jwt_alg_symmetric"
        case .unsupportedAlgorithm: return "jwt_alg_unsupported"
        case .unsupportedCritical: return "jwt_crit_unsupported"
        case .unknownKeyID: return "jwt_unknown_kid"
        case .algorithmKeyMismatch: return "jwt_alg_key_mismatch"
        case .noKeyForAlgorithm: return "jwt_no_key"
        case .keysUnavailable: return "jwks_unavailable"
        case .badSignature: return "jwt_bad_signature"
        case .expired: return "jwt_expired"
        case .notYetValid: return "jwt_not_yet_valid"
        case .missingExpiration: return "jwt_missing_exp"
        case .issuerMismatch: return "jwt_issuer_mismatch"
        case .audienceMismatch: return "jwt_audience_mismatch"
        }
    }

    /// One line for the reply body and the logs.
    public var reason: String {
        switch self {
        case .missing: return "Jwt is missing"
        case .tooLarge(let bytes, let limit): return "Jwt is too large (\(bytes) bytes, limit \(limit))"
        case .malformed(let what): return "Jwt is malformed: \(what)"
        case .algorithmNone: return "Jwt algorithm none is not accepted"
        case .symmetricAlgorithm(let alg): return "Jwt algorithm \(Self.shown(alg)) is not accepted"
        case .unsupportedAlgorithm(let alg): return "Jwt algorithm \(Self.shown(alg)) is not supported"
        case .unsupportedCritical(let names): return "Jwt has unsupported critical headers: \(Self.shown(names.joined(separator: ", ")))"
        case .unknownKeyID(let kid): return "Jwt key id \(Self.shown(kid)) is unknown"
        case .algorithmKeyMismatch(let alg): return "Jwt algorithm \(Self.shown(alg)) does not match the key"
        case .noKeyForAlgorithm(let alg): return "No key for Jwt algorithm \(Self.shown(alg))"
        case .keysUnavailable: return "Jwks are unavailable"
        case .badSignature: return "Jwt verification fails"
        case .expired: return "Jwt is expired"
        case .notYetValid: return "Jwt is not yet valid"
        case .missingExpiration: return "Jwt has no expiration"
        case .issuerMismatch: return "Jwt issuer is not allowed"
        case .audienceMismatch: return "Audiences in Jwt are not allowed"
        }
    }

    /// Token-supplied text as it may appear in a reply or a log line: printable ASCII only (others
    /// become `?`), at most 40 characters.
    static func shown(_ text: String) -> String {
        let clipped = text.unicodeScalars.prefix(40).map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }
        return String(clipped) + (text.unicodeScalars.count > 40 ? "…" : "")
    }
}
