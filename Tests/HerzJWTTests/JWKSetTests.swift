import Crypto
import XCTest
import _CryptoExtras
@testable import HerzJWT
import HerzCoprocSDK

/// Reading JWKS documents: which keys are used, which are left out and why, and how `kid`/`alg`
/// pick candidates.
final class JWKSetTests: XCTestCase {
    func testEverySupportedKeyTypeIsRead() throws {
        let set = TestTokens.keys(TestSigner.es256.jwk(#""kid":"a""#), TestSigner.es384.jwk(#""kid":"b""#),
                                  TestSigner.edDSA.jwk(#""kid":"c""#), TestSigner.rs256.jwk(#""kid":"d","use":"sig","key_ops":["verify"]"#))
        XCTAssertEqual(set.keys.map(\.keyID), ["a", "b", "c", "d"])
        XCTAssertEqual(set.keys.map(\.algorithms), [[.es256], [.es384], [.edDSA], [.rs256, .ps256]])
        XCTAssertEqual(set.notes, [])
    }

    func testUnusableKeysAreLeftOutWithAReason() {
        let weakRSA = try! _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)).publicKey.getKeyPrimitives()
        let set = TestTokens.keys(
            #"{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}"#,
            #"{"kty":"RSA","kid":"weak","n":"\#(Base64URL.encode(weakRSA.modulus))","e":"AQAB"}"#,
            TestSigner.es256.jwk(#""kid":"enc","use":"enc""#),
            TestSigner.es256.jwk(#""kid":"wrap","key_ops":["wrapKey"]"#),
            TestSigner.es256.jwk(#""kid":"lying","alg":"RS256""#),
            TestSigner.es256.jwk(#""kid":"hs","alg":"HS256""#),
            #"{"kty":"EC","crv":"P-521","kid":"p521","x":"AA","y":"AA"}"#,
            #"{"kty":"EC","crv":"P-256","kid":"offcurve","x":"\#(Base64URL.encode([UInt8](repeating: 1, count: 32)))","y":"\#(Base64URL.encode([UInt8](repeating: 2, count: 32)))"}"#,
            #"{"kty":"OKP","crv":"X25519","kid":"x","x":"AA"}"#,
            #"{"kid":"nokty"}"#,
            #""not an object""#,
            TestSigner.edDSA.jwk(#""kid":"good""#))
        XCTAssertEqual(set.keys.map(\.keyID), ["good"])
        XCTAssertEqual(set.notes, [
            "keys[0] (kid hmac): left out: symmetric keys are never used",
            "keys[1] (kid weak): left out: RSA key refused (at least 2048 bits are needed)",
            "keys[2] (kid enc): left out: use is not \"sig\"",
            "keys[3] (kid wrap): left out: key_ops does not include \"verify\"",
            "keys[4] (kid lying): left out: alg RS256 does not fit a EC key",
            "keys[5] (kid hs): left out: alg HS256 is not a supported signature algorithm",
            "keys[6] (kid p521): left out: unsupported EC curve",
            "keys[7] (kid offcurve): left out: invalid P-256 point",
            "keys[8] (kid x): left out: unsupported OKP curve",
            "keys[9] (kid nokty): left out: no kty",
            "keys[10]: not an object",
        ])
    }

    func testPrivateMembersAreNotedAndNotKept() {
        let set = TestTokens.keys(#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#)
        XCTAssertEqual(set.keys.count, 1)
        XCTAssertEqual(set.notes, ["keys[0]: private members ignored (d)"])
    }

    func testDocumentsThatAreNotAJWKSAreRefused() {
        XCTAssertThrowsError(try JWKSet.parse(Array("{".utf8)))
        XCTAssertThrowsError(try JWKSet.parse(Array(#"{"keys":{}}"#.utf8))) { XCTAssertEqual(($0 as? JWKSetError)?.reason, #"no "keys" list"#) }
        XCTAssertThrowsError(try JWKSet.parse(Array(#"{"keys":[],"keys":[]}"#.utf8)))
        XCTAssertEqual(try JWKSet.parse(Array(#"{"keys":[]}"#.utf8)).keys.count, 0)
    }

    func testCandidatesByKeyIDAndAlgorithm() {
        let set = TestTokens.keys(TestSigner.es256.jwk(#""kid":"a""#), TestSigner.es256.jwk(#""kid":"a""#),
                                  TestSigner.rs256.jwk(#""kid":"r""#), TestSigner.edDSA.jwk())
        XCTAssertEqual((try? set.candidates(keyID: "a", algorithm: .es256).get())?.count, 2, "duplicate kids are all tried")
        XCTAssertEqual((try? set.candidates(keyID: nil, algorithm: .edDSA).get())?.count, 1)
        XCTAssertEqual((try? set.candidates(keyID: nil, algorithm: .ps256).get())?.map(\.keyID), ["r"])
        XCTAssertEqual(set.candidates(keyID: "zz", algorithm: .es256).failure, .unknownKeyID("zz"))
        XCTAssertEqual(set.candidates(keyID: "r", algorithm: .es256).failure, .algorithmKeyMismatch(algorithm: "ES256"))
        XCTAssertEqual(set.candidates(keyID: nil, algorithm: .es384).failure, .noKeyForAlgorithm("ES384"))
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
