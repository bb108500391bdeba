import XCTest
@testable import HerzAESGCM
import HerzCoprocSDK

final class FieldCryptoTests: XCTestCase {
    private let keys = TestKeys.standard

    func testValuesRoundTripAsBase64URL() throws {
        let sealed = FieldCrypto.seal("4111 1111 1111 1111", field: .header("X-Card"), key: keys.active)
        XCTAssertTrue(sealed.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, sealed)
        XCTAssertEqual(try FieldCrypto.open(sealed, field: .header("x-card"), keys: keys), "4111 1111 1111 1111",
                       "header names are case-insensitive")
    }

    func testAValueSealedForOneFieldDoesNotOpenAsAnother() {
        let sealed = FieldCrypto.seal("secret", field: .cookie("session"), key: keys.active)
        for other in [FieldCrypto.Field.cookie("Session"), .cookie("id"), .header("session")] {
            XCTAssertThrowsError(try FieldCrypto.open(sealed, field: other, keys: keys)) {
                XCTAssertEqual($0 as? FieldCrypto.Rejection, .sealed(.authenticationFailed(sequence: 0)), "\(other)")
            }
        }
    }

    func testRefusals() {
        XCTAssertThrowsError(try FieldCrypto.open("not base64!", field: .header("x"), keys: keys)) {
            XCTAssertEqual($0 as? FieldCrypto.Rejection, .notBase64URL)
        }
        XCTAssertThrowsError(try FieldCrypto.open("aGVsbG8", field: .header("x"), keys: keys)) {
            XCTAssertEqual($0 as? FieldCrypto.Rejection, .sealed(.notSealed))
        }
    }

    func testDecryptedValuesThatCouldInjectAreRefused() {
        let unsafeHeaders = ["a\r\nx-admin: 1", "nul\u{0}", "del\u{7F}"]
        for value in unsafeHeaders {
            let sealed = FieldCrypto.seal(value, field: .header("x"), key: keys.active)
            XCTAssertThrowsError(try FieldCrypto.open(sealed, field: .header("x"), keys: keys)) {
                XCTAssertEqual($0 as? FieldCrypto.Rejection, .unsafePlaintext)
            }
        }
        for value in ["a; admin=1", "a,b", "a b", "\"q\"", "back\\slash"] {
            let sealed = FieldCrypto.seal(value, field: .cookie("c"), key: keys.active)
            XCTAssertThrowsError(try FieldCrypto.open(sealed, field: .cookie("c"), keys: keys), value)
        }
        let tab = FieldCrypto.seal("a\tb c", field: .header("x"), key: keys.active)
        XCTAssertEqual(try FieldCrypto.open(tab, field: .header("x"), keys: keys), "a\tb c", "tabs and spaces are fine in headers")
    }
}
