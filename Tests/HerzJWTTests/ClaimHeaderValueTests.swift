import XCTest
@testable import HerzJWT

/// Claims rendered as header values: only safe text ever becomes a header.
final class ClaimHeaderValueTests: XCTestCase {
    func render(_ json: String) -> String? { ClaimHeaderValue.render(try! StrictJSON.parse(json)) }

    func testScalarsAndLists() {
        XCTAssertEqual(render(#""alice""#), "alice")
        XCTAssertEqual(render("1.50"), "1.50", "numbers as written")
        XCTAssertEqual(render("true"), "true")
        XCTAssertEqual(render(#"["a",1,false]"#), "a,1,false")
    }

    func testUnsafeOrStructuredValuesGiveNoHeader() {
        XCTAssertNil(render(#""a\r\nx-injected: 1""#))
        XCTAssertNil(render(#""nul\u0000""#))
        XCTAssertNil(render(#""del\u007f""#))
        XCTAssertNil(render(#"{"a":1}"#))
        XCTAssertNil(render("null"))
        XCTAssertNil(render("[]"))
        XCTAssertNil(render(#"[["a"]]"#))
        XCTAssertNil(render(#"["ok","bad\n"]"#))
        XCTAssertEqual(render(#""tab\tok é""#), "tab\tok é")
    }

    func testLookupPrefersAnExactNameThenNestedObjects() throws {
        let claims = try XCTUnwrap(StrictJSON.parse(#"{"a.b":"flat","a":{"b":"nested","c":{"d":"deep"}}}"#).object)
        XCTAssertEqual(ClaimHeaderValue.lookup("a.b", in: claims), .string("flat"))
        XCTAssertEqual(ClaimHeaderValue.lookup("a.c.d", in: claims), .string("deep"))
        XCTAssertNil(ClaimHeaderValue.lookup("a.x", in: claims))
    }
}
