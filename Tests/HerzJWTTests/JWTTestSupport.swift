import Crypto
import Foundation
import _CryptoExtras
@testable import HerzJWT
import HerzCoprocSDK

/// A private key that signs test tokens with swift-crypto, and the public JWK verifying them.
struct TestSigner {
    enum Key {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey, pss: Bool)
    }

    let key: Key

    static let es256 = TestSigner(key: .p256(P256.Signing.PrivateKey()))
    static let es384 = TestSigner(key: .p384(P384.Signing.PrivateKey()))
    static let edDSA = TestSigner(key: .ed25519(Curve25519.Signing.PrivateKey()))
    static let rsaKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let rs256 = TestSigner(key: .rsa(rsaKey, pss: false))
    static let ps256 = TestSigner(key: .rsa(rsaKey, pss: true))
    static let all: [TestSigner] = [.es256, .es384, .edDSA, .rs256, .ps256]

    var alg: String {
        switch key {
        case .p256: return "ES256"
        case .p384: return "ES384"
        case .ed25519: return "EdDSA"
        case .rsa(_, let pss): return pss ? "PS256" : "RS256"
        }
    }

    func sign(_ input: [UInt8]) -> [UInt8] {
        switch key {
        case .p256(let key): return Array(try! key.signature(for: SHA256.hash(data: input)).rawRepresentation)
        case .p384(let key): return Array(try! key.signature(for: SHA384.hash(data: input)).rawRepresentation)
        case .ed25519(let key): return Array(try! key.signature(for: input))
        case .rsa(let key, let pss):
            return Array(try! key.signature(for: SHA256.hash(data: input), padding: pss ? .PSS : .insecurePKCS1v1_5).rawRepresentation)
        }
    }

    /// The public JWK as JSON text, with extra members (`"kid":"a"`…) spliced in.
    func jwk(_ extra: String = "") -> String {
        let more = extra.isEmpty ? "" : "," + extra
        switch key {
        case .p256(let key):
            let raw = Array(key.publicKey.rawRepresentation)
            return #"{"kty":"EC","crv":"P-256","x":"\#(Base64URL.encode(raw[..<32]))","y":"\#(Base64URL.encode(raw[32...]))"\#(more)}"#
        case .p384(let key):
            let raw = Array(key.publicKey.rawRepresentation)
            return #"{"kty":"EC","crv":"P-384","x":"\#(Base64URL.encode(raw[..<48]))","y":"\#(Base64URL.encode(raw[48...]))"\#(more)}"#
        case .ed25519(let key):
            return #"{"kty":"OKP","crv":"Ed25519","x":"\#(Base64URL.encode(key.publicKey.rawRepresentation))"\#(more)}"#
        case .rsa(let key, _):
            let primitives = try! key.publicKey.getKeyPrimitives()
            return #"{"kty":"RSA","n":"\#(Base64URL.encode(primitives.modulus))","e":"\#(Base64URL.encode(primitives.publicExponent))"\#(more)}"#
        }
    }

    /// A compact JWS of `payload` (JSON text) with header `{"alg":…}` plus `headerExtra` members.
    func token(_ payload: String, headerExtra: String = "", alg: String? = nil) -> String {
        let header = #"{"alg":"\#(alg ?? self.alg)"\#(headerExtra.isEmpty ? "" : "," + headerExtra)}"#
        return TestTokens.signed(header: header, payload: payload, by: self)
    }
}

enum TestTokens {
    static let now: Double = 1_700_000_000

    /// `BASE64URL(header).BASE64URL(payload).BASE64URL(signature by signer)`; header and payload
    /// are taken byte for byte, so tests can write duplicate members or broken JSON.
    static func signed(header: String, payload: String, by signer: TestSigner) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(signer.sign(Array(input.utf8)))
    }

    static func keys(_ jwks: String...) -> JWKSet {
        try! JWKSet.parse(Array(#"{"keys":[\#(jwks.joined(separator: ","))]}"#.utf8))
    }

    static func verify(_ token: String, _ keys: JWKSet, requirements: ClaimRequirements = ClaimRequirements(),
                       maxTokenBytes: Int = 8192, now: Double = TestTokens.now) -> Result<VerifiedToken, JWTRejection> {
        TokenVerifier.verify(token, keys: keys, requirements: requirements, maxTokenBytes: maxTokenBytes, now: now)
    }

    static func rejection(_ result: Result<VerifiedToken, JWTRejection>) -> JWTRejection? {
        if case .failure(let rejection) = result { return rejection }
        return nil
    }

    /// A payload valid at ``now``: `{"sub":"alice","iss":"https://issuer","aud":"api","exp":now+600}` plus `extra`.
    static func claims(_ extra: String = "") -> String {
        #"{"sub":"alice","iss":"https://issuer","aud":"api","exp":\#(Int(now) + 600)\#(extra.isEmpty ? "" : "," + extra)}"#
    }
}
