import Crypto
import _CryptoExtras

/// One public key from a JWKS, ready to verify signatures with swift-crypto (BoringSSL). Only
/// public keys exist here: symmetric (`oct`) keys are refused when the JWKS is read, so no HMAC
/// verification can ever happen.
///
/// Guarantees: ``isValidSignature(_:for:algorithm:)`` is false whenever the algorithm does not fit
/// the key (``accepts(_:)``): ES256 only with P-256, ES384 only with P-384, EdDSA only with
/// Ed25519, RS256/PS256 only with RSA keys of at least 2048 bits, and never another `alg` than the
/// one the JWK declares. Immutable; verification may run on any number of threads at once.
public struct VerificationKey: Sendable {
    public enum Material: Sendable {
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    public let keyID: String?
    /// The JWK's own `alg`, when it names one.
    public let declaredAlgorithm: JWSAlgorithm?
    public let material: Material

    public init(keyID: String?, declaredAlgorithm: JWSAlgorithm?, material: Material) {
        self.keyID = keyID
        self.declaredAlgorithm = declaredAlgorithm
        self.material = material
    }

    /// The algorithms this key type can verify.
    public var algorithms: [JWSAlgorithm] {
        switch material {
        case .p256: return [.es256]
        case .p384: return [.es384]
        case .ed25519: return [.edDSA]
        case .rsa: return [.rs256, .ps256]
        }
    }

    public func accepts(_ algorithm: JWSAlgorithm) -> Bool {
        if let declaredAlgorithm, declaredAlgorithm != algorithm { return false }
        return algorithms.contains(algorithm)
    }

    /// Whether `signature` (the JWS signature bytes: raw `r || s` for ECDSA) signs `signingInput`
    /// (the ASCII `header.payload`) under `algorithm` with this key.
    public func isValidSignature(_ signature: [UInt8], for signingInput: ArraySlice<UInt8>, algorithm: JWSAlgorithm) -> Bool {
        guard accepts(algorithm) else { return false }
        switch (material, algorithm) {
        case (.p256(let key), .es256):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: SHA256.hash(data: signingInput))
        case (.p384(let key), .es384):
            guard let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: SHA384.hash(data: signingInput))
        case (.ed25519(let key), .edDSA):
            return key.isValidSignature(signature, for: signingInput)
        case (.rsa(let key), .rs256):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature),
                                        for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5)
        case (.rsa(let key), .ps256):
            // RFC 7518 section 3.5: MGF1 with SHA-256, salt as long as the hash (swift-crypto's .PSS).
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature),
                                        for: SHA256.hash(data: signingInput), padding: .PSS)
        default:
            return false
        }
    }
}
