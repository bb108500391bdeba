import XCTest
@testable import HerzJWT
import HerzCoprocSDK

/// The published example tokens of RFC 7515 (A.2 RS256, A.3 ES256) and RFC 8037 (A.4 Ed25519),
/// verified with the RFCs' public keys: data produced independently of Herz and swift-crypto.
final class RFCVectorTests: XCTestCase {
    /// Both RFC 7515 examples sign `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}`.
    static let rfc7515Payload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    static let beforeExpiry: Double = 1_300_819_000

    static let es256Key = #"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#
    static let es256Token = "eyJhbGciOiJFUzI1NiJ9." + rfc7515Payload
        + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

    static let rs256Key = #"{"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}"#
    static let rs256Token = "eyJhbGciOiJSUzI1NiJ9." + rfc7515Payload
        + ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

    static let ed25519Key = #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
    /// Signs the text "Example of Ed25519 signing", which is not a claims set.
    static let ed25519Token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
        + ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

    func testRFC7515A3ES256VerifiesWithTheRFCKey() throws {
        let verified = try TestTokens.verify(Self.es256Token, TestTokens.keys(Self.es256Key), now: Self.beforeExpiry).get()
        XCTAssertEqual(verified.algorithm, .es256)
        XCTAssertEqual(verified.claims["iss"], .string("joe"))
        XCTAssertEqual(verified.claims["http://example.com/is_root"], .bool(true))
        XCTAssertEqual(verified.claims["exp"]?.number, 1_300_819_380)
    }

    func testRFC7515A2RS256VerifiesWithTheRFCKey() throws {
        let verified = try TestTokens.verify(Self.rs256Token, TestTokens.keys(Self.rs256Key), now: Self.beforeExpiry).get()
        XCTAssertEqual(verified.algorithm, .rs256)
        XCTAssertEqual(verified.claims["iss"], .string("joe"))
    }

    func testRFC8037A4Ed25519SignatureVerifiesAndItsTextPayloadIsNotAClaimsSet() throws {
        let jws = try CompactJWS.parse(Self.ed25519Token, maxBytes: 8192)
        let key = try XCTUnwrap(TestTokens.keys(Self.ed25519Key).keys.first)
        XCTAssertTrue(key.isValidSignature(jws.signature, for: jws.signingInput, algorithm: .edDSA))
        XCTAssertEqual(String(decoding: jws.payload, as: UTF8.self), "Example of Ed25519 signing")
        // The signature holds, so the verifier gets as far as the payload, which is no JSON object.
        guard case .malformed(let what)? = TestTokens.rejection(TestTokens.verify(Self.ed25519Token, TestTokens.keys(Self.ed25519Key))) else {
            return XCTFail("expected a malformed payload")
        }
        XCTAssertTrue(what.hasPrefix("payload"), what)
    }

    func testTheRFCTokensFailWithOneSignatureBitFlipped() {
        for (token, key) in [(Self.es256Token, Self.es256Key), (Self.rs256Token, Self.rs256Key), (Self.ed25519Token, Self.ed25519Key)] {
            var segments = token.split(separator: ".").map(String.init)
            var signature = Base64URL.decode(segments[2].utf8)!
            signature[signature.count / 2] ^= 0x01
            segments[2] = Base64URL.encode(signature)
            XCTAssertEqual(TestTokens.rejection(TestTokens.verify(segments.joined(separator: "."), TestTokens.keys(key), now: Self.beforeExpiry)),
                           .badSignature, token)
        }
    }

    func testTheRFCTokensAreExpiredToday() {
        XCTAssertEqual(TestTokens.rejection(TestTokens.verify(Self.es256Token, TestTokens.keys(Self.es256Key))), .expired)
    }
}
