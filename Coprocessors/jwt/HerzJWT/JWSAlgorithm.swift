/// The JWS algorithms herz-jwt verifies (RFC 7518 section 3, RFC 8037 section 3.1). Every other
/// `alg` is refused; see ``JWSAlgorithm/classify(_:)``.
public enum JWSAlgorithm: String, CaseIterable, Sendable {
    case es256 = "ES256"
    case es384 = "ES384"
    case edDSA = "EdDSA"
    case rs256 = "RS256"
    case ps256 = "PS256"

    /// The algorithm a header's `alg` names, or the rejection for it: `none` in any letter case,
    /// the HMAC family, and anything unknown are refused.
    public static func classify(_ alg: String) -> Result<JWSAlgorithm, JWTRejection> {
        if let algorithm = JWSAlgorithm(rawValue: alg) { return .success(algorithm) }
        if alg.lowercased() == "none" { return .failure(.algorithmNone) }
        if alg.uppercased().hasPrefix("HS") { return .failure(.symmetricAlgorithm(alg)) }
        return .failure(.unsupportedAlgorithm(alg))
    }
}
