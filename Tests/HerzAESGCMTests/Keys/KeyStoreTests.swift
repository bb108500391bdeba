import Foundation
import Logging
import XCTest
@testable import HerzAESGCM

/// Key rotation without a restart: the store reloads on demand and when the file changes; new
/// messages use the new active key, older messages still open while their key is listed, a refused
/// file keeps the previous keys, and a message in progress is never disturbed.
final class KeyStoreTests: XCTestCase {
    private let k1 = [UInt8](repeating: 1, count: 32)
    private let k2 = [UInt8](repeating: 2, count: 16)
    private var directory: TestKeys.TemporaryDirectory!
    private var path = ""
    private var store: KeyStore!

    override func setUpWithError() throws {
        directory = TestKeys.TemporaryDirectory()
        path = directory.write("keys.json", TestKeys.fileText(active: "k1", ["k1": k1]))
        store = try KeyStore(path: path, logger: Logger(label: "test"))
    }

    override func tearDown() {
        directory = nil
    }

    private func rotate(active: String, _ keys: [String: [UInt8]]) {
        directory.write("keys.json", TestKeys.fileText(active: active, keys))
    }

    private func sealed(_ text: String) -> [UInt8] {
        SealedMessage.seal(Array(text.utf8), key: store.current.active, context: "body")
    }

    private func opens(_ sealed: [UInt8]) -> Bool {
        (try? SealedMessage.open(sealed, keys: store.current, context: "body")) != nil
    }

    func testRotationNewMessagesUseTheNewActiveKeyOldOnesStillOpen() throws {
        let old = sealed("before")
        rotate(active: "k2", ["k1": k1, "k2": k2])
        XCTAssertEqual(try store.reload().active.id, KeyID("k2"))
        let new = sealed("after")
        XCTAssertEqual(try StreamOpener.keyID(of: new), KeyID("k2"))
        XCTAssertTrue(opens(old), "k1 is still listed")
        XCTAssertTrue(opens(new))

        rotate(active: "k2", ["k2": k2])
        try store.reload()
        XCTAssertFalse(opens(old), "k1 retired: its messages no longer open")
        XCTAssertTrue(opens(new))
    }

    func testARefusedFileKeepsThePreviousKeys() throws {
        let message = sealed("kept")
        directory.write("keys.json", "{\"active\": \"k9\", \"keys\": {}}")
        XCTAssertThrowsError(try store.reload())
        XCTAssertEqual(store.current.active.id, KeyID("k1"))
        XCTAssertTrue(opens(message))
    }

    func testReloadIfChangedSeesReplacementsAndInPlaceWritesOnly() throws {
        XCTAssertNil(store.reloadIfChanged(), "unchanged")
        rotate(active: "k2", ["k1": k1, "k2": k2])  // by rename: a new inode
        XCTAssertEqual(store.reloadIfChanged()?.active.id, KeyID("k2"))
        XCTAssertNil(store.reloadIfChanged())
        directory.write("keys.json", TestKeys.fileText(active: "k1", ["k1": k1, "k2": k2]), atomically: false)
        XCTAssertEqual(store.reloadIfChanged()?.active.id, KeyID("k1"), "written in place")
        directory.write("keys.json", "not json", atomically: false)
        XCTAssertNil(store.reloadIfChanged(), "refused")
        XCTAssertEqual(store.current.active.id, KeyID("k1"))
        XCTAssertNil(store.reloadIfChanged(), "a refused file is tried once per change")
    }

    func testTheWatcherRotatesKeysWithoutBeingAsked() throws {
        let watcher = KeyFileWatcher(store: store, intervalMillis: 20)
        defer { watcher.stop() }
        rotate(active: "k2", ["k1": k1, "k2": k2])
        let deadline = Date().addingTimeInterval(10)
        while store.current.active.id != KeyID("k2") && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(store.current.active.id, KeyID("k2"))
    }

    func testAMessageInProgressKeepsItsKeysAcrossARotation() throws {
        var sealer = StreamSealer(key: store.current.active, context: "body", chunkSize: 4)
        var first = try sealer.seal(Array("0123456789".utf8), end: false)
        var opener = StreamOpener(keys: store.current, context: "body")
        var opened = try opener.open(first, end: false)

        rotate(active: "k2", ["k2": k2])  // k1 retired mid-message
        try store.reload()
        first = try sealer.seal(Array("abc".utf8), end: true)
        opened += try opener.open(first, end: true)
        XCTAssertEqual(String(decoding: opened, as: UTF8.self), "0123456789abc")
    }
}

extension StreamOpener {
    /// The key id a sealed message names.
    static func keyID(of sealed: [UInt8]) throws -> KeyID? {
        try MessageHeader.parse(sealed[...])?.header.keyID
    }
}
