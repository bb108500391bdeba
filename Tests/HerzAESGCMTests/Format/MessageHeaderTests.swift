import XCTest
@testable import HerzAESGCM

final class MessageHeaderTests: XCTestCase {
    private let header = MessageHeader(keyID: KeyID("2026-11.a_b")!, chunkSize: 16384, salt: [UInt8](repeating: 0xAB, count: 32))

    func testLayoutAndRoundTrip() throws {
        let bytes = header.encoded()
        XCTAssertEqual(Array(bytes.prefix(5)), [0x48, 0x5A, 0x47, 1, 11])
        XCTAssertEqual(Array(bytes[16..<20]), [0, 0, 0x40, 0])
        XCTAssertEqual(bytes.count, MessageHeader.encodedSize(keyIDBytes: 11))
        let parsed = try XCTUnwrap(MessageHeader.parse((bytes + [1, 2, 3])[...]))
        XCTAssertEqual(parsed.header, header)
        XCTAssertEqual(parsed.length, bytes.count)
    }

    func testEveryPrefixAsksForMoreBytes() throws {
        let bytes = header.encoded()
        for length in 0..<bytes.count {
            XCTAssertNil(try MessageHeader.parse(bytes[..<length]), "prefix of \(length) bytes")
        }
    }

    func testRefusals() {
        func refusal(_ change: (inout [UInt8]) -> Void) -> SealedMessageError? {
            var bytes = header.encoded()
            change(&bytes)
            do {
                _ = try MessageHeader.parse(bytes[...])
                return nil
            } catch {
                return error as? SealedMessageError
            }
        }
        XCTAssertEqual(refusal { $0[0] = UInt8(ascii: "X") }, .notSealed)
        XCTAssertEqual(refusal { $0[2] ^= 1 }, .notSealed)
        XCTAssertEqual(refusal { $0[3] = 2 }, .unsupportedVersion(2))
        XCTAssertEqual(refusal { $0[4] = 0 }, .malformedKeyID)
        XCTAssertEqual(refusal { $0[4] = 65 }, .malformedKeyID)
        XCTAssertEqual(refusal { $0[5] = UInt8(ascii: "/") }, .malformedKeyID)
        XCTAssertEqual(refusal { $0.replaceSubrange(16..<20, with: [0, 0, 0, 0]) }, .chunkSizeOutOfRange(0))
        XCTAssertEqual(refusal { $0.replaceSubrange(16..<20, with: [0, 0x10, 0, 1]) }, .chunkSizeOutOfRange((1 << 20) + 1))
        XCTAssertNil(try MessageHeader.parse(Array("HZ".utf8)[...]), "a prefix of the magic waits for more")
        XCTAssertThrowsError(try MessageHeader.parse(Array("HX".utf8)[...]), "a wrong byte is refused at once")
    }
}
