import Foundation
import XCTest
@testable import HerzAESGCM

final class KeyFileTests: XCTestCase {
    private func parse(_ text: String) throws -> KeyRing {
        try KeyFile.parse(Data(text.utf8), path: "keys.json")
    }

    private func refusal(_ text: String) -> KeyFileError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error as? KeyFileError
        }
    }

    func testAES128AndAES256KeysByID() throws {
        let ring = try parse(TestKeys.fileText(active: "b", ["a": [UInt8](repeating: 1, count: 16), "b": [UInt8](repeating: 2, count: 32)]))
        XCTAssertEqual(ring.active.id, KeyID("b"))
        XCTAssertEqual(ring.active.key.bitCount, 256)
        XCTAssertEqual(ring.key(for: KeyID("a")!)?.key.bitCount, 128)
        XCTAssertEqual(ring.ids, [KeyID("a")!, KeyID("b")!])
        XCTAssertEqual("\(ring)", "2 key(s), active b")
        XCTAssertEqual("\(ring.active)", "key b (AES-256-GCM)", "descriptions never show key bytes")
    }

    func testRefusals() {
        let k16 = Data(repeating: 1, count: 16).base64EncodedString()
        XCTAssertEqual(refusal("[]"), .malformed(path: "keys.json", reason: "not a JSON object"))
        XCTAssertEqual(refusal("{\"active\": \"a\", \"keys\": {\"a\": \"\(k16)\"}, \"extra\": 1}"),
                       .malformed(path: "keys.json", reason: "unknown field(s) extra"))
        XCTAssertEqual(refusal("{\"keys\": {\"a\": \"\(k16)\"}}"), .malformed(path: "keys.json", reason: "\"active\" must be a key id"))
        XCTAssertEqual(refusal("{\"active\": \"a\", \"keys\": {}}"), .noKeys)
        XCTAssertEqual(refusal("{\"active\": \"a\", \"keys\": {\"a b\": \"\(k16)\"}}"), .badKeyID("a b"))
        XCTAssertEqual(refusal("{\"active\": \"a\", \"keys\": {\"a\": \"not base64!\"}}"), .badKeyEncoding(id: "a"))
        XCTAssertEqual(refusal("{\"active\": \"a\", \"keys\": {\"a\": 5}}"), .badKeyEncoding(id: "a"))
        XCTAssertEqual(refusal(TestKeys.fileText(active: "a", ["a": [UInt8](repeating: 1, count: 24)])), .badKeyLength(id: "a", bytes: 24),
                       "AES-192 is not offered")
        XCTAssertEqual(refusal(TestKeys.fileText(active: "c", ["a": [UInt8](repeating: 1, count: 16)])), .activeNotListed("c"))
    }

    func testAMissingFileIsUnreadable() {
        XCTAssertThrowsError(try KeyFile.load(path: "/nonexistent/keys.json")) {
            guard case .unreadable(let path, _) = $0 as? KeyFileError else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "/nonexistent/keys.json")
        }
    }
}
