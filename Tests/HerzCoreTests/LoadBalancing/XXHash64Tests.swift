import XCTest
@testable import HerzCore

final class XXHash64Tests: XCTestCase {
    func testXXHash64KnownVectors() {
        let vectors: [(String, UInt64, UInt64)] = [
            ("", 0, 0xEF46_DB37_51D8_E999),
            ("a", 0, 0xD24E_C4F1_A98C_6E5B),
            ("abc", 0, 0x44BC_2CF5_AD77_0999),
            ("Hello, World!", 0, 0xC49A_ACF8_080F_E47F),
            ("Hello, World!", 42, 0xC2E0_FE28_B251_2846),
            (String(repeating: "a", count: 32), 0, 0x856E_8432_98F9_9AD7),
            (String(repeating: "a", count: 33), 0, 0x18F3_FF0C_21E3_B24B),
            (String(repeating: "abc", count: 999), 0, 0x933E_B856_1397_6467),
            (String(repeating: "abcd", count: 1000), 0, 0x2052_19D3_8E88_98BC),
        ]
        for (input, seed, expected) in vectors {
            XCTAssertEqual(XXHash64.hash(input, seed: seed), expected, "\(input.prefix(16))… seed \(seed)")
        }
    }

    func testSubstringAndBytesAgree() {
        let s = "prefix:abc"
        XCTAssertEqual(XXHash64.hash(s.dropFirst(7)), XXHash64.hash("abc"))
        XCTAssertEqual(Array("abc".utf8).withUnsafeBytes { XXHash64.hash($0) }, 0x44BC_2CF5_AD77_0999)
    }
}
