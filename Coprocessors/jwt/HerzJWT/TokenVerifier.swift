/// A token that passed every check: signature, time window, issuer and audience.
public struct VerifiedToken: Sendable {
    public let claims: JSONObject
    /// The payload segment as received (base64url).
    public let payloadSegment: String
    public let algorithm: JWSAlgorithm
    public let keyID: String?
}

/// Verifies one compact JWS against a provider's keys and claim requirements.
///
/// Order (each step only runs when the previous held): size, structure and header
/// (``CompactJWS``), key selection by `kid`/`alg` (``JWKSet/candidates(keyID:algorithm:)``),
/// signature with swift-crypto, payload JSON (strict: no duplicate claims), then
/// ``ClaimRequirements``. So a token that is not signed by a known key can only ever get a 401, and
/// the payload is never interpreted before its signature holds. Pure; any thread.
public enum TokenVerifier {
    public static func verify(_ token: String, keys: JWKSet, requirements: ClaimRequirements, maxTokenBytes: Int,
                              now: Double) -> Result<VerifiedToken, JWTRejection> {
        let jws: CompactJWS
        do throws(JWTRejection) {
            jws = try CompactJWS.parse(token, maxBytes: maxTokenBytes)
        } catch {
            return .failure(error)
        }
        let candidates: [VerificationKey]
        switch keys.candidates(keyID: jws.keyID, algorithm: jws.algorithm) {
        case .success(let found): candidates = found
        case .failure(let rejection): return .failure(rejection)
        }
        guard candidates.contains(where: { $0.isValidSignature(jws.signature, for: jws.signingInput, algorithm: jws.algorithm) }) else {
            return .failure(.badSignature)
        }
        let payload: JSONValue
        do throws(JSONParseError) {
            payload = try StrictJSON.parse(jws.payload)
        } catch {
            return .failure(.malformed("payload: \(error.reason)"))
        }
        guard let claims = payload.object else { return .failure(.malformed("payload is not a JSON object")) }
        if let rejection = requirements.check(claims, now: now) { return .failure(rejection) }
        return .success(VerifiedToken(claims: claims, payloadSegment: jws.payloadSegment, algorithm: jws.algorithm, keyID: jws.keyID))
    }
}
