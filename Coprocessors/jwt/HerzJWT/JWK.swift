import Crypto
import _CryptoExtras
import HerzCoprocSDK

/// Reads one JSON Web Key (RFC 7517, RFC 7518 section 6, RFC 8037 section 2) into a
/// ``VerificationKey``, refusing anything that is not a public signature-verification key of a
/// supported type. Pure; any thread.
enum JWK {
    /// Members that only private or symmetric keys have; their values are never kept.
    static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    /// The key, or the reason it cannot be used (a short text naming no key material).
    static func parse(_ jwk: JSONObject) -> Result<VerificationKey, JWKProblem> {
        guard let kty = jwk["kty"]?.string else { return .failure("no kty") }
        var keyID: String?
        if let kid = jwk["kid"] {
            guard let text = kid.string else { return .failure("kid is not a string") }
            keyID = text
        }
        var declared: JWSAlgorithm?
        if let alg = jwk["alg"] {
            guard let text = alg.string, let algorithm = JWSAlgorithm(rawValue: text) else {
                return .failure("alg \(JWTRejection.shown(alg.string ?? "?")) is not a supported signature algorithm")
            }
            declared = algorithm
        }
        if let use = jwk["use"], use.string != "sig" { return .failure("use is not \"sig\"") }
        if let ops = jwk["key_ops"], !(ops.array ?? []).contains(.string("verify")) { return .failure("key_ops does not include \"verify\"") }

        let material: VerificationKey.Material
        switch kty {
        case "EC":
            switch jwk["crv"]?.string {
            case "P-256":
                guard let point = coordinates(jwk, length: 32),
                      let key = try? P256.Signing.PublicKey(rawRepresentation: point) else { return .failure("invalid P-256 point") }
                material = .p256(key)
            case "P-384":
                guard let point = coordinates(jwk, length: 48),
                      let key = try? P384.Signing.PublicKey(rawRepresentation: point) else { return .failure("invalid P-384 point") }
                material = .p384(key)
            default:
                return .failure("unsupported EC curve")
            }
        case "OKP":
            guard jwk["crv"]?.string == "Ed25519" else { return .failure("unsupported OKP curve") }
            guard let x = member(jwk, "x"), x.count == 32,
                  let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else { return .failure("invalid Ed25519 key") }
            material = .ed25519(key)
        case "RSA":
            guard let n = member(jwk, "n"), let e = member(jwk, "e") else { return .failure("invalid RSA n or e") }
            do {
                material = .rsa(try _RSA.Signing.PublicKey(n: n, e: e))
            } catch {
                return .failure("RSA key refused (at least 2048 bits are needed)")
            }
        case "oct":
            return .failure("symmetric keys are never used")
        default:
            return .failure("unsupported kty")
        }
        let key = VerificationKey(keyID: keyID, declaredAlgorithm: declared, material: material)
        if let declared, !key.algorithms.contains(declared) {
            return .failure("alg \(declared.rawValue) does not fit a \(kty) key")
        }
        return .success(key)
    }

    static func member(_ jwk: JSONObject, _ name: String) -> [UInt8]? {
        jwk[name]?.string.flatMap { Base64URL.decode($0.utf8) }
    }

    /// `x || y`, each exactly `length` bytes.
    static func coordinates(_ jwk: JSONObject, length: Int) -> [UInt8]? {
        guard let x = member(jwk, "x"), let y = member(jwk, "y"), x.count == length, y.count == length else { return nil }
        return x + y
    }
}

/// Why one JWK was not used (shown in logs; never contains key material).
struct JWKProblem: Error, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
    init(stringLiteral value: String) { self.description = value }
}
