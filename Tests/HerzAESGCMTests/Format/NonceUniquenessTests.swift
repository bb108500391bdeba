import Crypto
import XCTest
@testable import HerzAESGCM

/// Nonces never repeat under a key (docs/aes-gcm-format.md section 2): every message draws
/// a fresh 32-byte salt, from which it derives its own AES key and nonce prefix, and numbers its
/// chunks; the key it is sealed under never sees a nonce twice.
final class NonceUniquenessTests: XCTestCase {
    private let key = TestKeys.standard.active

    private func cipher(salt: [UInt8]) -> MessageCipher {
        let header = MessageHeader(keyID: key.id, chunkSize: 16, salt: salt)
        return MessageCipher(key: key, header: header, headerBytes: header.encoded(), context: [])
    }

    private func salt(of sealed: [UInt8]) -> [UInt8] {
        let (header, _) = try! MessageHeader.parse(sealed[...])!
        return header.salt
    }

    func testEveryMessageGetsItsOwnSaltKeyAndNoncePrefix() {
        var salts = Set<[UInt8]>(), keys = Set<[UInt8]>(), prefixes = Set<[UInt8]>()
        let count = 5000
        for _ in 0..<count {
            let salt = salt(of: SealedMessage.seal([1, 2, 3], key: key, context: "body"))
            let cipher = cipher(salt: salt)
            salts.insert(salt)
            keys.insert(cipher.key.withUnsafeBytes { Array($0) })
            prefixes.insert(cipher.noncePrefix)
        }
        XCTAssertEqual(salts.count, count)
        XCTAssertEqual(keys.count, count)
        XCTAssertEqual(prefixes.count, count)
        XCTAssertFalse(keys.contains(key.key.withUnsafeBytes { Array($0) }), "the named key itself never seals a chunk")
    }

    func testTheChunksOfOneMessageHaveDistinctNonces() {
        let cipher = cipher(salt: [UInt8](repeating: 1, count: 32))
        let nonces = Set((0..<10_000).map { cipher.nonce(UInt64($0)) } + [cipher.nonce(SealedFormat.maxChunks - 1)])
        XCTAssertEqual(nonces.count, 10_001)
        XCTAssertTrue(nonces.allSatisfy { $0.count == GCM.nonceBytes })
    }

    func testSealingTheSamePlaintextTwiceGivesUnrelatedCiphertext() {
        let first = SealedMessage.seal(Array(repeating: 0, count: 64), key: key, context: "body")
        let second = SealedMessage.seal(Array(repeating: 0, count: 64), key: key, context: "body")
        let header = MessageHeader.encodedSize(keyIDBytes: 2)
        XCTAssertNotEqual(Array(first[header...]), Array(second[header...]))
    }

    func testTheNonceDependsOnlyOnSaltAndSequence() {
        // With the salt fixed (known-answer tests only), sealing is deterministic: no hidden state
        // such as a counter could make two processes disagree or collide.
        let salt = [UInt8](repeating: 5, count: 32)
        var a = StreamSealer(key: key, context: "body", chunkSize: 4, salt: salt)
        var b = StreamSealer(key: key, context: "body", chunkSize: 4, salt: salt)
        XCTAssertEqual(try a.seal([1, 2, 3, 4, 5], end: true), try b.seal([1, 2, 3, 4, 5], end: true))
    }
}
