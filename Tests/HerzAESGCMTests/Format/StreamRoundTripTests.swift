import XCTest
@testable import HerzAESGCM

/// Sealing and opening as streams: any piece sizes give one valid message, output leaves as early
/// as the format allows, and buffering stays within one chunk.
final class StreamRoundTripTests: XCTestCase {
    private let keys = TestKeys.standard

    /// Splits `bytes` at `cuts` and feeds the pieces through `push`, the last with `end`.
    private func feed(_ bytes: [UInt8], cuts: [Int], _ push: ([UInt8], Bool) throws -> [UInt8]) rethrows -> [UInt8] {
        var out: [UInt8] = []
        let bounds = [0] + cuts + [bytes.count]
        for index in 1..<bounds.count {
            out += try push(Array(bytes[bounds[index - 1]..<bounds[index]]), index == bounds.count - 1)
        }
        return out
    }

    private func plaintext(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    func testEveryChunkingOfSmallMessagesRoundTrips() throws {
        for key in [keys.active, keys.key(for: KeyID("k2")!)!] {
            for size in [0, 1, 6, 7, 8, 13, 14, 15, 21] {
                let plain = plaintext(size)
                for a in 0...size {
                    for b in a...size {
                        var sealer = StreamSealer(key: key, context: "body", chunkSize: 7)
                        let sealed = try feed(plain, cuts: [a, b]) { try sealer.seal($0, end: $1) }
                        XCTAssertEqual(sealed.count, SealedFormat.sealedSize(plaintextBytes: size, keyIDBytes: 2, chunkSize: 7))
                        for c in stride(from: 0, through: sealed.count, by: 5) {
                            var opener = StreamOpener(keys: keys, context: "body")
                            XCTAssertEqual(try feed(sealed, cuts: [c]) { try opener.open($0, end: $1) }, plain,
                                           "\(key) size \(size) sealed at \(a),\(b) opened at \(c)")
                        }
                    }
                }
            }
        }
    }

    func testLargeBodiesWithTheDefaultChunkSize() throws {
        for size in [16383, 16384, 16385, 3 * 16384, 100_000] {
            let plain = plaintext(size)
            var sealer = StreamSealer(key: keys.active, context: "body")
            let sealed = try feed(plain, cuts: Array(stride(from: 1000, to: size, by: 4096))) { try sealer.seal($0, end: $1) }
            XCTAssertEqual(try SealedMessage.open(sealed, keys: keys, context: "body"), plain, "size \(size)")
        }
    }

    func testTheSealerEmitsEachChunkAsSoonAsItIsFullAndHoldsLessThanAChunk() throws {
        var sealer = StreamSealer(key: keys.active, context: "body", chunkSize: 10)
        let header = MessageHeader.encodedSize(keyIDBytes: 2)
        XCTAssertEqual(try sealer.seal(plaintext(4), end: false).count, header, "the header leaves at once")
        XCTAssertEqual(sealer.bufferedBytes, 4)
        XCTAssertEqual(try sealer.seal(plaintext(6), end: false).count, 10 + 16, "the first chunk leaves when full")
        XCTAssertEqual(sealer.bufferedBytes, 0)
        XCTAssertEqual(try sealer.seal(plaintext(29), end: false).count, 2 * 26)
        XCTAssertEqual(sealer.bufferedBytes, 9)
        XCTAssertEqual(try sealer.seal([], end: true).count, 9 + 16, "the final chunk holds the rest")
        XCTAssertTrue(sealer.isFinished)
        XCTAssertThrowsError(try sealer.seal([1], end: false)) { XCTAssertEqual($0 as? SealedMessageError, .finished) }
    }

    func testTheOpenerReleasesAChunkOnlyWhenItIsCompleteAndTheEndOnlyWithTheFinalChunk() throws {
        var sealer = StreamSealer(key: keys.active, context: "body", chunkSize: 10)
        let plain = plaintext(25)
        let sealed = try sealer.seal(plain, end: true)
        let header = MessageHeader.encodedSize(keyIDBytes: 2)
        var opener = StreamOpener(keys: keys, context: "body")
        XCTAssertEqual(try opener.open(Array(sealed[..<(header + 25)]), end: false), [], "chunk 0 is one byte short")
        XCTAssertEqual(opener.keyID, KeyID("k1"))
        XCTAssertEqual(opener.bufferedBytes, 25)
        XCTAssertEqual(try opener.open(Array(sealed[(header + 25)..<(header + 52)]), end: false), Array(plain[..<20]),
                       "chunks 0 and 1 complete: released; the final chunk is never guessed before the end")
        XCTAssertFalse(opener.isFinished)
        XCTAssertEqual(try opener.open(Array(sealed[(header + 52)...]), end: true), Array(plain[20...]))
        XCTAssertTrue(opener.isFinished)
    }

    func testAnEmptyMessageIsAHeaderAndAnEmptyFinalChunk() throws {
        let sealed = SealedMessage.seal([], key: keys.active, context: "body")
        XCTAssertEqual(sealed.count, MessageHeader.encodedSize(keyIDBytes: 2) + 16)
        XCTAssertEqual(try SealedMessage.open(sealed, keys: keys, context: "body"), [])
    }
}
