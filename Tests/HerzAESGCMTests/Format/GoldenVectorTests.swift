import XCTest
@testable import HerzAESGCM

/// Whole sealed messages produced by the independent Python implementation of
/// docs/aes-gcm-format.md (Tests/integration/aesgcm_reference.py, Python `cryptography`) with a fixed
/// salt: Herz must produce the same bytes and open them.
final class GoldenVectorTests: XCTestCase {
    private static let salt = [UInt8](0x20...0x3F)

    /// AES-128, chunk size 16, three chunks (16 + 16 + final 12), context `body`.
    private static let threeChunks = (
        key: NamedKey(id: KeyID("k-128")!, bytes: [UInt8](0...15))!,
        plaintext: Array("Herz golden vector: three chunks of sixteen.".utf8),
        sealed: "485a4701056b2d31323800000010202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
            + "d58966c00ba2c7ab6ebd13e7ccecc8baca06402e99493fa54623f42cd142ca120bbb6a70fcec91ca54eef01dadae6032"
            + "eaac58ac73bfddd99396aaa578ece174a1374bf87225a20810e475df622f26a101a226ddb12b6002ae8fb605"
    )

    /// AES-256, default chunk size, one final chunk, context `header:x-card`.
    private static let headerValue = (
        key: NamedKey(id: KeyID("k-256")!, bytes: [UInt8](0...31))!,
        plaintext: Array("4111 1111 1111 1111".utf8),
        sealed: "485a4701056b2d32353600004000202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
            + "6f93b6b44e5fbaababa681f214579238d9681bbc19da00543c250234f26b073443b690"
    )

    func testSealsTheReferenceBytes() throws {
        var sealer = StreamSealer(key: Self.threeChunks.key, context: "body", chunkSize: 16, salt: Self.salt)
        XCTAssertEqual(try sealer.seal(Self.threeChunks.plaintext, end: true).hex, Self.threeChunks.sealed)
        var header = StreamSealer(key: Self.headerValue.key, context: "header:x-card", salt: Self.salt)
        XCTAssertEqual(try header.seal(Self.headerValue.plaintext, end: true).hex, Self.headerValue.sealed)
    }

    func testOpensTheReferenceBytes() throws {
        let keys = TestKeys.ring(Self.threeChunks.key, Self.headerValue.key)
        XCTAssertEqual(try SealedMessage.open([UInt8](hex: Self.threeChunks.sealed), keys: keys, context: "body"),
                       Self.threeChunks.plaintext)
        XCTAssertEqual(try SealedMessage.open([UInt8](hex: Self.headerValue.sealed), keys: keys, context: "header:x-card"),
                       Self.headerValue.plaintext)
    }
}
