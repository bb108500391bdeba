import XCTest
@testable import HerzJWT

/// `exp`, `nbf` (with clock skew), `iss` and `aud` on verified tokens; 401 for time and type
/// failures, 403 for issuer and audience.
final class ClaimRequirementsTests: XCTestCase {
    let signer = TestSigner.edDSA
    lazy var keys = TestTokens.keys(signer.jwk())
    let now = Int(TestTokens.now)

    func check(_ payload: String, _ requirements: ClaimRequirements = ClaimRequirements(clockSkewSeconds: 0)) -> JWTRejection? {
        TestTokens.rejection(TestTokens.verify(signer.token(payload), keys, requirements: requirements))
    }

    func testExpiry() {
        XCTAssertNil(check(#"{"exp":\#(now + 1)}"#))
        XCTAssertEqual(check(#"{"exp":\#(now)}"#), .expired)
        XCTAssertEqual(check(#"{"exp":\#(now - 30)}"#), .expired)
        XCTAssertNil(check(#"{"exp":\#(now - 30)}"#, ClaimRequirements(clockSkewSeconds: 60)))
        XCTAssertEqual(check(#"{"exp":\#(now - 61)}"#, ClaimRequirements(clockSkewSeconds: 60)), .expired)
        XCTAssertNil(check(#"{"exp":\#(now).5}"#))   // NumericDate may have a fraction
        XCTAssertEqual(check(#"{"exp":"\#(now + 600)"}"#), .malformed("exp is not a number"))
    }

    func testNotBefore() {
        XCTAssertNil(check(#"{"nbf":\#(now)}"#))
        XCTAssertEqual(check(#"{"nbf":\#(now + 30)}"#), .notYetValid)
        XCTAssertNil(check(#"{"nbf":\#(now + 30)}"#, ClaimRequirements(clockSkewSeconds: 60)))
        XCTAssertEqual(check(#"{"nbf":\#(now + 61)}"#, ClaimRequirements(clockSkewSeconds: 60)), .notYetValid)
        XCTAssertEqual(check(#"{"nbf":null}"#), .malformed("nbf is not a number"))
    }

    func testRequireExpiration() {
        XCTAssertNil(check("{}"))
        XCTAssertEqual(check("{}", ClaimRequirements(requireExpiration: true)), .missingExpiration)
    }

    func testIssuerIsA403() {
        let requirements = ClaimRequirements(issuer: "https://issuer")
        XCTAssertNil(check(#"{"iss":"https://issuer"}"#, requirements))
        XCTAssertEqual(check(#"{"iss":"https://evil"}"#, requirements), .issuerMismatch)
        XCTAssertEqual(check("{}", requirements), .issuerMismatch)
        XCTAssertEqual(check(#"{"iss":["https://issuer"]}"#, requirements), .malformed("iss is not a string"))
        XCTAssertEqual(JWTRejection.issuerMismatch.status, 403)
    }

    func testAudienceIsA403() {
        let requirements = ClaimRequirements(audiences: ["api", "web"])
        XCTAssertNil(check(#"{"aud":"web"}"#, requirements))
        XCTAssertNil(check(#"{"aud":["other","api"]}"#, requirements))
        XCTAssertEqual(check(#"{"aud":"other"}"#, requirements), .audienceMismatch)
        XCTAssertEqual(check(#"{"aud":[]}"#, requirements), .audienceMismatch)
        XCTAssertEqual(check("{}", requirements), .audienceMismatch)
        XCTAssertEqual(check(#"{"aud":["api",1]}"#, requirements), .malformed("aud is not a list of strings"))
        XCTAssertNil(check(#"{"aud":"anything"}"#))   // no audiences configured: any
        XCTAssertEqual(JWTRejection.audienceMismatch.status, 403)
    }

    func testTimeIsCheckedBeforeIssuerAndAudience() {
        XCTAssertEqual(check(#"{"exp":\#(now - 100),"iss":"x","aud":"x"}"#, ClaimRequirements(issuer: "y", audiences: ["y"], clockSkewSeconds: 0)),
                       .expired)
    }

    func testAnUnverifiedTokenNeverGetsA403() {
        // Wrong issuer and a bad signature: the signature is checked first, so the answer is 401.
        let token = signer.token(#"{"iss":"https://evil"}"#)
        let forged = token.dropLast(4) + "AAAA"
        XCTAssertEqual(TestTokens.rejection(TestTokens.verify(String(forged), keys, requirements: ClaimRequirements(issuer: "https://issuer"))),
                       .badSignature)
    }
}
