import Crypto
import XCTest
@testable import HerzJWT
import HerzCoprocSDK

/// Every way a token is refused (issue 5, item 3), each on its own, with swift-crypto-signed tokens
/// that would verify but for the one defect under test.
final class TokenRejectionTests: XCTestCase {
    let signer = TestSigner.es256
    lazy var keys = TestTokens.keys(signer.jwk(#""kid":"k1""#))

    func reject(_ token: String, keys: JWKSet? = nil, maxTokenBytes: Int = 8192) -> JWTRejection? {
        TestTokens.rejection(TestTokens.verify(token, keys ?? self.keys, maxTokenBytes: maxTokenBytes))
    }

    func testAWellFormedTokenVerifies() throws {
        let verified = try TestTokens.verify(signer.token(TestTokens.claims(), headerExtra: #""kid":"k1""#), keys).get()
        XCTAssertEqual(verified.claims["sub"], .string("alice"))
        XCTAssertEqual(verified.keyID, "k1")
    }

    func testAlgNoneIsRefusedInAnyLetterCaseWithOrWithoutASignature() {
        let unsigned = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8)) + "." + Base64URL.encode(Array(TestTokens.claims().utf8)) + "."
        XCTAssertEqual(reject(unsigned), .algorithmNone)
        XCTAssertEqual(reject(signer.token(TestTokens.claims(), alg: "None")), .algorithmNone)
        XCTAssertEqual(reject(signer.token(TestTokens.claims(), alg: "NONE")), .algorithmNone)
    }

    /// The classic confusion: an HS256 token whose HMAC secret is the RSA public key's text. herz-jwt
    /// holds no symmetric key and refuses the whole HMAC family before looking at keys.
    func testHMACWithThePublicKeyAsSecretIsRefused() {
        let rsa = TestSigner.rs256
        let rsaKeys = TestTokens.keys(rsa.jwk(#""kid":"r1""#))
        for alg in ["HS256", "HS384", "HS512"] {
            let input = Base64URL.encode(Array(#"{"alg":"\#(alg)","kid":"r1"}"#.utf8)) + "." + Base64URL.encode(Array(TestTokens.claims().utf8))
            let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(rsa.jwk().utf8)))
            XCTAssertEqual(reject(input + "." + Base64URL.encode(Array(mac)), keys: rsaKeys), .symmetricAlgorithm(alg))
        }
    }

    func testAnAlgorithmThatDoesNotFitTheKeyTypeIsRefused() {
        // An RSA key named by kid, a token claiming ES256.
        let rsaKeys = TestTokens.keys(TestSigner.rs256.jwk(#""kid":"r1""#))
        XCTAssertEqual(reject(signer.token(TestTokens.claims(), headerExtra: #""kid":"r1""#), keys: rsaKeys), .algorithmKeyMismatch(algorithm: "ES256"))
        // A P-256 key, a token claiming ES384 (signed with P-384).
        XCTAssertEqual(reject(TestSigner.es384.token(TestTokens.claims(), headerExtra: #""kid":"k1""#)), .algorithmKeyMismatch(algorithm: "ES384"))
        // No kid, and no key for the algorithm at all.
        XCTAssertEqual(reject(TestSigner.rs256.token(TestTokens.claims())), .noKeyForAlgorithm("RS256"))
        // An RSA JWK that declares RS256 does not verify a PS256 token made with the same key.
        let declared = TestTokens.keys(TestSigner.rs256.jwk(#""kid":"r1","alg":"RS256""#))
        XCTAssertEqual(reject(TestSigner.ps256.token(TestTokens.claims(), headerExtra: #""kid":"r1""#), keys: declared),
                       .algorithmKeyMismatch(algorithm: "PS256"))
    }

    func testUnsupportedAlgorithmsAreRefused() {
        for alg in ["ES512", "RS384", "PS512", "ES256K", ""] {
            XCTAssertEqual(reject(signer.token(TestTokens.claims(), alg: alg)), .unsupportedAlgorithm(alg), alg)
        }
    }

    func testATokenOverTheSizeLimitIsRefusedBeforeDecoding() {
        let token = signer.token(TestTokens.claims(#""pad":"\#(String(repeating: "x", count: 200))""#))
        XCTAssertEqual(reject(token, maxTokenBytes: 100), .tooLarge(bytes: token.utf8.count, limit: 100))
        XCTAssertEqual(reject("a.b." + String(repeating: "A", count: 9000)), .tooLarge(bytes: 9004, limit: 8192))
    }

    func testMalformedBase64URLIsRefusedInEverySegment() {
        let good = signer.token(TestTokens.claims()).split(separator: ".").map(String.init)
        let cases: [(String, String)] = [
            (good[0] + "+." + good[1] + "." + good[2], "header is not base64url"),
            (good[0] + "=." + good[1] + "." + good[2], "header is not base64url"),
            (good[0] + "." + good[1] + "*." + good[2], "payload is not base64url"),
            (good[0] + "." + good[1] + "." + good[2] + "==", "signature is missing or not base64url"),
            (good[0] + "." + good[1] + "." + good[2] + "AAA", "signature is missing or not base64url"),   // 4n+1 length
            (good[0] + "." + good[1] + ".", "signature is missing or not base64url"),
        ]
        for (token, what) in cases { XCTAssertEqual(reject(token), .malformed(what), token) }
    }

    func testTokensWithoutExactlyThreeSegmentsAreRefused() {
        XCTAssertEqual(reject("abc"), .malformed("not three dot-separated segments"))
        XCTAssertEqual(reject("a.b"), .malformed("not three dot-separated segments"))
        XCTAssertEqual(reject("a.b.c.d"), .malformed("not three dot-separated segments"))
        XCTAssertEqual(reject("a.b.c.d.e"), .malformed("JWE tokens are not supported"))
    }

    func testMalformedJSONIsRefused() {
        func header(_ text: String) -> String { TestTokens.signed(header: text, payload: TestTokens.claims(), by: signer) }
        XCTAssertEqual(reject(header("not json")), .malformed("header: invalid literal"))
        XCTAssertEqual(reject(header(#"["ES256"]"#)), .malformed("header is not a JSON object"))
        XCTAssertEqual(reject(header(#"{"alg":"ES256""#)), .malformed("header: expected ',' or '}'"))
        XCTAssertEqual(reject(header(#"{"alg":1}"#)), .malformed("header has no string alg"))
        // A correctly signed payload that is not a JSON object.
        guard case .malformed(let what)? = reject(TestTokens.signed(header: #"{"alg":"ES256"}"#, payload: "{oops", by: signer)) else {
            return XCTFail("expected malformed")
        }
        XCTAssertTrue(what.hasPrefix("payload:"), what)
        XCTAssertEqual(reject(TestTokens.signed(header: #"{"alg":"ES256"}"#, payload: "[1]", by: signer)), .malformed("payload is not a JSON object"))
    }

    func testDuplicateMembersAreRefusedInHeaderAndPayload() {
        let twoAlgs = TestTokens.signed(header: #"{"alg":"ES256","alg":"none"}"#, payload: TestTokens.claims(), by: signer)
        XCTAssertEqual(reject(twoAlgs), .malformed(#"header: duplicate member "alg""#))
        let escapedTwin = TestTokens.signed(header: #"{"alg":"ES256","\u0061lg":"ES256"}"#, payload: TestTokens.claims(), by: signer)
        XCTAssertEqual(reject(escapedTwin), .malformed(#"header: duplicate member "alg""#))
        let twoExps = signer.token(TestTokens.claims(#""exp":1"#))
        XCTAssertEqual(reject(twoExps), .malformed(#"payload: duplicate member "exp""#))
    }

    func testCritHeadersAreRefusedBecauseNoExtensionIsUnderstood() {
        XCTAssertEqual(reject(signer.token(TestTokens.claims(), headerExtra: #""crit":["exp"],"exp":1"#)), .unsupportedCritical(["exp"]))
        XCTAssertEqual(reject(signer.token(TestTokens.claims(), headerExtra: #""crit":["b64"],"b64":false"#)), .unsupportedCritical(["b64"]))
        XCTAssertEqual(reject(signer.token(TestTokens.claims(), headerExtra: #""crit":[]"#)), .unsupportedCritical([]))
        XCTAssertEqual(reject(signer.token(TestTokens.claims(), headerExtra: #""crit":"exp""#)), .unsupportedCritical(["(not a list)"]))
    }

    func testKeyIDMustBeAStringAndKnown() {
        XCTAssertEqual(reject(signer.token(TestTokens.claims(), headerExtra: #""kid":7"#)), .malformed("kid is not a string"))
        XCTAssertEqual(reject(signer.token(TestTokens.claims(), headerExtra: #""kid":"k2""#)), .unknownKeyID("k2"))
    }

    func testBadSignaturesAreRefused() {
        let good = signer.token(TestTokens.claims(), headerExtra: #""kid":"k1""#)
        var parts = good.split(separator: ".").map(String.init)
        let tampered = parts[0] + "." + Base64URL.encode(Array(TestTokens.claims(#""admin":true"#).utf8)) + "." + parts[2]
        XCTAssertEqual(reject(tampered), .badSignature)
        // Another key under the same kid.
        let impostor = TestSigner(key: .p256(P256.Signing.PrivateKey())).token(TestTokens.claims(), headerExtra: #""kid":"k1""#)
        XCTAssertEqual(reject(impostor), .badSignature)
        // A truncated signature and a DER-encoded one (JWS wants raw r || s).
        parts[2] = Base64URL.encode(Base64URL.decode(parts[2].utf8)!.dropLast())
        XCTAssertEqual(reject(parts.joined(separator: ".")), .badSignature)
        let input = Array(good.split(separator: ".").prefix(2).joined(separator: ".").utf8)
        guard case .p256(let key) = signer.key else { return XCTFail() }
        let der = try! key.signature(for: SHA256.hash(data: input)).derRepresentation
        XCTAssertEqual(reject(String(decoding: input, as: UTF8.self) + "." + Base64URL.encode(Array(der))), .badSignature)
    }

    /// Each algorithm verifies with its own key and with no key of another type. (RS256 and PS256
    /// tokens share one RSA test key, and an RSA JWK without `alg` serves both by design.)
    func testEverySupportedAlgorithmVerifiesWithItsOwnKeyTypeOnly() {
        func isRSA(_ signer: TestSigner) -> Bool { if case .rsa = signer.key { return true } else { return false } }
        for signer in TestSigner.all {
            let token = signer.token(TestTokens.claims())
            XCTAssertNotNil(try? TestTokens.verify(token, TestTokens.keys(signer.jwk())).get(), signer.alg)
            for other in TestSigner.all where !(isRSA(signer) && isRSA(other)) && other.alg != signer.alg {
                XCTAssertEqual(TestTokens.rejection(TestTokens.verify(token, TestTokens.keys(other.jwk()))), .noKeyForAlgorithm(signer.alg),
                               "\(signer.alg) token, \(other.alg) key")
            }
        }
    }
}
