import XCTest
@testable import HerzAESGCM

/// Every way a sealed message can be damaged, one test each: each is refused, with the error that
/// names it, and the call that meets the damage releases no plaintext.
final class RejectionTests: XCTestCase {
    private let keys = TestKeys.standard
    private let plain = (0..<30).map { UInt8($0) }  // chunk size 8: chunks of 8, 8, 8 and a final 6

    /// A fresh message split into its header and chunks (sealed sizes 24, 24, 24, 22).
    private func message() -> (header: [UInt8], chunks: [[UInt8]]) {
        var sealer = StreamSealer(key: keys.active, context: "body", chunkSize: 8)
        let sealed = try! sealer.seal(plain, end: true)
        let header = MessageHeader.encodedSize(keyIDBytes: 2)
        let bounds = [header, header + 24, header + 48, header + 72, sealed.count]
        return (Array(sealed[..<header]), (0..<4).map { Array(sealed[bounds[$0]..<bounds[$0 + 1]]) })
    }

    /// Opens `bytes` in one piece; the error, or nil when it opened.
    private func refusal(_ bytes: [UInt8], keys: KeyRing? = nil, context: String = "body") -> SealedMessageError? {
        do {
            _ = try SealedMessage.open(bytes, keys: keys ?? self.keys, context: context)
            return nil
        } catch {
            return error as? SealedMessageError
        }
    }

    private func joined(_ header: [UInt8], _ chunks: [[UInt8]]) -> [UInt8] { header + chunks.joined() }

    func testTheUndamagedMessageOpens() {
        let m = message()
        XCTAssertNil(refusal(joined(m.header, m.chunks)))
    }

    func testAFlippedCiphertextBitIsRefusedAndTheFailingCallReleasesNothing() throws {
        var m = message()
        m.chunks[1][3] ^= 0x80
        var opener = StreamOpener(keys: keys, context: "body")
        XCTAssertEqual(try opener.open(m.header + m.chunks[0], end: false), Array(plain[..<8]), "chunk 0 is sound")
        XCTAssertThrowsError(try opener.open(m.chunks[1] + m.chunks[2], end: false)) {
            XCTAssertEqual($0 as? SealedMessageError, .authenticationFailed(sequence: 1))
        }
        XCTAssertThrowsError(try opener.open(m.chunks[3], end: true)) { XCTAssertEqual($0 as? SealedMessageError, .finished) }
    }

    func testAFlippedTagBitIsRefused() {
        var m = message()
        m.chunks[2][23] ^= 0x01
        XCTAssertEqual(refusal(joined(m.header, m.chunks)), .authenticationFailed(sequence: 2))
    }

    func testAFlippedHeaderBitIsRefusedWhereverItIs() {
        let m = message()
        for position in m.header.indices {
            for bit in [0x01, 0x80] as [UInt8] {
                var header = m.header
                header[position] ^= bit
                XCTAssertNotNil(refusal(joined(header, m.chunks)), "header byte \(position) bit \(bit)")
            }
        }
        var salted = m.header
        salted[m.header.count - 1] ^= 0x01
        XCTAssertEqual(refusal(joined(salted, m.chunks)), .authenticationFailed(sequence: 0), "another salt is another message key")
    }

    func testATruncatedFinalChunkIsRefused() {
        let m = message()
        let whole = joined(m.header, m.chunks)
        XCTAssertEqual(refusal(Array(whole.dropLast())), .authenticationFailed(sequence: 3))
        XCTAssertEqual(refusal(Array(whole.dropLast(7))), .truncated, "fewer bytes than a tag")
        XCTAssertEqual(refusal(Array(whole.prefix(20))), .truncated, "cut inside the header")
    }

    func testADroppedFinalChunkIsRefused() {
        let m = message()
        XCTAssertEqual(refusal(joined(m.header, Array(m.chunks[..<3]))), .truncated)
    }

    func testADroppedMiddleChunkIsRefused() {
        let m = message()
        XCTAssertEqual(refusal(joined(m.header, [m.chunks[0], m.chunks[2], m.chunks[3]])), .authenticationFailed(sequence: 1))
    }

    func testReorderedChunksAreRefused() {
        let m = message()
        XCTAssertEqual(refusal(joined(m.header, [m.chunks[1], m.chunks[0], m.chunks[2], m.chunks[3]])),
                       .authenticationFailed(sequence: 0))
    }

    func testADuplicatedChunkIsRefused() {
        let m = message()
        XCTAssertEqual(refusal(joined(m.header, [m.chunks[0], m.chunks[0], m.chunks[2], m.chunks[3]])),
                       .authenticationFailed(sequence: 1))
    }

    func testAChunkSplicedFromAnotherMessageIsRefused() {
        let a = message(), b = message()
        XCTAssertEqual(refusal(joined(a.header, [a.chunks[0], b.chunks[1], a.chunks[2], a.chunks[3]])),
                       .authenticationFailed(sequence: 1), "same key, same position, other message")
        XCTAssertEqual(refusal(joined(a.header, [a.chunks[0], a.chunks[1], a.chunks[2], b.chunks[3]])),
                       .authenticationFailed(sequence: 3), "another message's final chunk")
        XCTAssertEqual(refusal(joined(b.header, a.chunks)), .authenticationFailed(sequence: 0), "another message's header")
    }

    func testBytesAfterTheFinalChunkAreRefused() {
        let m = message()
        XCTAssertEqual(refusal(joined(m.header, m.chunks) + [0]), .authenticationFailed(sequence: 3))
        XCTAssertEqual(refusal(joined(m.header, m.chunks) + m.chunks[3]), .authenticationFailed(sequence: 3))
    }

    func testAWrongKeyIDIsRefused() {
        var m = message()
        m.header[6] = UInt8(ascii: "2")  // "k1" → "k2": a listed key, but not the one it was sealed with
        XCTAssertEqual(refusal(joined(m.header, m.chunks)), .authenticationFailed(sequence: 0))
    }

    func testAnUnknownKeyIsRefused() {
        let m = message()
        let withoutK1 = TestKeys.ring(keys.key(for: KeyID("k2")!)!)
        XCTAssertEqual(refusal(joined(m.header, m.chunks), keys: withoutK1), .unknownKey(KeyID("k1")!))
    }

    func testAnotherContextIsRefused() {
        let m = message()
        XCTAssertEqual(refusal(joined(m.header, m.chunks), context: "header:x-card"), .authenticationFailed(sequence: 0))
    }

    func testBytesThatAreNotASealedMessageAreRefused() {
        XCTAssertEqual(refusal(Array("hello, world".utf8)), .notSealed)
        XCTAssertEqual(refusal([]), .truncated)
    }
}
