import XCTest
@testable import HerzJWT
import HerzCoprocSDK

/// The strict decoders under the verifier: base64url (RFC 4648 section 5, unpadded, canonical)
/// and JSON (RFC 8259, no duplicate members).
final class JSONAndBase64Tests: XCTestCase {
    func testBase64URLRoundTripsAndIsStrict() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            XCTAssertEqual(Base64URL.decode(Base64URL.encode(bytes).utf8), bytes)
        }
        XCTAssertEqual(Base64URL.encode(Array("Example of Ed25519 signing".utf8)), "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc")
        XCTAssertEqual(Base64URL.encode([0xFB, 0xFF]), "-_8")
        XCTAssertNil(Base64URL.decode("+/8".utf8), "standard alphabet")
        XCTAssertNil(Base64URL.decode("-_8=".utf8), "padding")
        XCTAssertNil(Base64URL.decode("-_ 8".utf8), "whitespace")
        XCTAssertNil(Base64URL.decode("A".utf8), "4n+1 length")
        XCTAssertNil(Base64URL.decode("-_9".utf8), "non-zero unused bits")
        XCTAssertEqual(Base64URL.decode("".utf8), [])
    }

    func testJSONValues() throws {
        let value = try StrictJSON.parse(#" {"a":[1,-2.5e3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"],"b":{}} "#)
        let a = try XCTUnwrap(value.object?["a"]?.array)
        XCTAssertEqual(a[0], .number(JSONNumber(text: "1", value: 1)))
        XCTAssertEqual(a[1].number, -2500)
        XCTAssertEqual(Array(a[2...4]), [.bool(true), .bool(false), .null])
        XCTAssertEqual(a[5].string, "x\"\\/\u{8}\u{c}\n\r\té😀")
        XCTAssertEqual(value.object?["b"], .object(JSONObject([:])))
    }

    func testJSONRefusals() {
        let refused: [(String, String)] = [
            (#"{"a":1,"a":2}"#, #"duplicate member "a""#),
            (#"{"a":1,"\u0061":2}"#, #"duplicate member "a""#),
            ("{\"a\":\"\u{01}\"}", "control character in string"),
            (#"{"a":"\ud800"}"#, "lone surrogate escape"),
            (#"{"a":"\udc00"}"#, "lone surrogate escape"),
            (#"{"a":"\x"}"#, "invalid escape"),
            ("[01]", "expected ',' or ']'"),
            ("[1.]", "invalid number"),
            ("[-]", "invalid number"),
            ("[1e999]", "number out of range"),
            ("[1,]", "unexpected character"),
            ("{} {}", "trailing characters after the value"),
            ("\u{FEFF}{}", "unexpected character"),
            ("tru", "invalid literal"),
            ("", "unexpected end of input"),
            (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "nested deeper than 32"),
        ]
        for (text, reason) in refused {
            XCTAssertThrowsError(try StrictJSON.parse(text), text) { error in
                XCTAssertEqual((error as? JSONParseError)?.reason, reason, text)
            }
        }
        XCTAssertThrowsError(try StrictJSON.parse([0x22, 0xFF, 0x22]))   // invalid UTF-8 in a string
    }
}
