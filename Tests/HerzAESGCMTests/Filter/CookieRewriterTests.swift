import XCTest
@testable import HerzAESGCM

final class CookieRewriterTests: XCTestCase {
    private func upper(_ name: String, _ value: String) -> String { value.uppercased() }

    func testCookieRewritesListedPairsOnly() throws {
        XCTAssertEqual(try CookieRewriter.rewriteCookie("a=1; session=abc;theme=dark", names: ["session"], upper),
                       "a=1; session=ABC; theme=dark")
        XCTAssertEqual(try CookieRewriter.rewriteCookie("session=\"quoted\"; b=2", names: ["session"], upper),
                       "session=QUOTED; b=2", "DQUOTEs around a value are not part of it")
        XCTAssertEqual(try CookieRewriter.rewriteCookie("session=x; session=y", names: ["session"], upper), "session=X; session=Y")
    }

    func testACookieFieldWithoutListedPairsIsUntouched() throws {
        let field = "a=1;b=2 ;  flag; c"
        XCTAssertEqual(try CookieRewriter.rewriteCookie(field, names: ["session"], upper), field)
        XCTAssertEqual(try CookieRewriter.rewriteCookie(field, names: ["Session", "A "], upper), field, "names are exact")
    }

    func testSetCookieRewritesTheValueAndKeepsAttributes() throws {
        XCTAssertEqual(try CookieRewriter.rewriteSetCookie("session=abc; Path=/; HttpOnly; Secure", names: ["session"], upper),
                       "session=ABC; Path=/; HttpOnly; Secure")
        XCTAssertEqual(try CookieRewriter.rewriteSetCookie("session=abc", names: ["session"], upper), "session=ABC")
        XCTAssertEqual(try CookieRewriter.rewriteSetCookie("other=abc; session=x", names: ["session"], upper), "other=abc; session=x",
                       "attributes are not cookies")
    }

    func testTheTransformsErrorPropagates() {
        struct Refused: Error {}
        XCTAssertThrowsError(try CookieRewriter.rewriteCookie("session=x", names: ["session"]) { _, _ in throw Refused() })
    }
}
