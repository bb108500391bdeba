import Crypto
import XCTest
@testable import HerzAESGCM

/// The AES-GCM primitive against the test vectors of the GCM specification (McGrew & Viega, "The
/// Galois/Counter Mode of Operation", appendix B; the same cases NIST SP 800-38D's validation uses):
/// test cases 2-4 (AES-128) and 14-16 (AES-256), 4 and 16 with AAD. Also checked against Python
/// `cryptography` when they were written down.
final class GCMTests: XCTestCase {
    private struct Vector {
        var name: String, key: String, nonce: String, plaintext: String, aad: String, ciphertext: String, tag: String
    }

    private static let p64 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
    private static let p60 = String(p64.dropLast(8))
    private static let aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2"
    private static let nonce = "cafebabefacedbaddecaf888"
    private static let k128 = "feffe9928665731c6d6a8f9467308308"

    private static let vectors = [
        Vector(name: "case 2", key: String(repeating: "00", count: 16), nonce: String(repeating: "00", count: 12),
               plaintext: String(repeating: "00", count: 16), aad: "",
               ciphertext: "0388dace60b6a392f328c2b971b2fe78", tag: "ab6e47d42cec13bdf53a67b21257bddf"),
        Vector(name: "case 3", key: k128, nonce: nonce, plaintext: p64, aad: "",
               ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                   + "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
               tag: "4d5c2af327cd64a62cf35abd2ba6fab4"),
        Vector(name: "case 4 (AAD)", key: k128, nonce: nonce, plaintext: p60, aad: aad,
               ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                   + "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
               tag: "5bc94fbc3221a5db94fae95ae7121a47"),
        Vector(name: "case 14", key: String(repeating: "00", count: 32), nonce: String(repeating: "00", count: 12),
               plaintext: String(repeating: "00", count: 16), aad: "",
               ciphertext: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        Vector(name: "case 15", key: k128 + k128, nonce: nonce, plaintext: p64, aad: "",
               ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                   + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
               tag: "b094dac5d93471bdec1a502270e3cc6c"),
        Vector(name: "case 16 (AAD)", key: k128 + k128, nonce: nonce, plaintext: p60, aad: aad,
               ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                   + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
               tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
    ]

    func testSealsEveryVector() throws {
        for v in Self.vectors {
            var out: [UInt8] = []
            try GCM.seal([UInt8](hex: v.plaintext), key: SymmetricKey(data: [UInt8](hex: v.key)), nonce: [UInt8](hex: v.nonce),
                         aad: [UInt8](hex: v.aad), into: &out)
            XCTAssertEqual(out.hex, v.ciphertext + v.tag, v.name)
        }
    }

    func testOpensEveryVector() throws {
        for v in Self.vectors {
            let plain = try GCM.open([UInt8](hex: v.ciphertext + v.tag)[...], key: SymmetricKey(data: [UInt8](hex: v.key)),
                                     nonce: [UInt8](hex: v.nonce), aad: [UInt8](hex: v.aad))
            XCTAssertEqual(Array(plain).hex, v.plaintext, v.name)
        }
    }

    func testEveryVectorRefusesAFlippedBitInCiphertextTagOrAAD() {
        for v in Self.vectors {
            let sealed = [UInt8](hex: v.ciphertext + v.tag)
            let aad = [UInt8](hex: v.aad)
            for position in [0, sealed.count / 2, sealed.count - 1] {
                var flipped = sealed
                flipped[position] ^= 0x01
                XCTAssertThrowsError(try GCM.open(flipped[...], key: SymmetricKey(data: [UInt8](hex: v.key)),
                                                  nonce: [UInt8](hex: v.nonce), aad: aad), "\(v.name) byte \(position)")
            }
            XCTAssertThrowsError(try GCM.open(sealed[...], key: SymmetricKey(data: [UInt8](hex: v.key)),
                                              nonce: [UInt8](hex: v.nonce), aad: aad + [0]), "\(v.name): other AAD")
        }
    }
}
