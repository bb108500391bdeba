import Foundation
import Logging
import XCTest
@testable import HerzJWT

/// JWKS files on disk: loaded on first use, replaced when they change, last good keys kept when a
/// new version is broken, and names outside `--jwks-root` refused.
final class JWKSStoreTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herz-jwks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `jwks` to `name` atomically (temporary file + rename), as a key rotation would.
    func write(_ name: String, _ jwks: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(jwks.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }

    func document(_ jwks: String...) -> String { #"{"keys":[\#(jwks.joined(separator: ","))]}"# }

    func kids(_ result: Result<JWKSet, JWTRejection>) -> [String?]? { try? result.get().keys.map(\.keyID) }

    func testLoadsOnFirstUseAndPicksUpARotation() throws {
        let store = JWKSStore(root: nil, logger: Logger(label: "test"))
        let path = try write("a.json", document(TestSigner.es256.jwk(#""kid":"old""#)))
        XCTAssertEqual(kids(store.keySet(for: path)), ["old"])
        XCTAssertEqual(store.refresh(force: false), [path: .unchanged])

        _ = try write("a.json", document(TestSigner.es256.jwk(#""kid":"old""#), TestSigner.edDSA.jwk(#""kid":"new""#)))
        XCTAssertEqual(store.refresh(force: false), [path: .reloaded(keys: 2)])
        XCTAssertEqual(kids(store.keySet(for: path)), ["old", "new"])
    }

    func testABrokenVersionKeepsTheLastGoodKeysUntilAGoodOneArrives() throws {
        let store = JWKSStore(root: nil, logger: Logger(label: "test"))
        let path = try write("a.json", document(TestSigner.es256.jwk(#""kid":"k1""#)))
        XCTAssertEqual(kids(store.keySet(for: path)), ["k1"])

        _ = try write("a.json", #"{"keys":["#)
        XCTAssertEqual(store.refresh(force: false), [path: .failed("not valid JSON (unexpected end of input at byte 9)")])
        XCTAssertEqual(kids(store.keySet(for: path)), ["k1"])
        XCTAssertEqual(store.refresh(force: false), [path: .unchanged], "the same broken version is not retried")

        try FileManager.default.removeItem(atPath: path)
        guard case .failed? = store.refresh(force: false)[path] else { return XCTFail("a deleted file is a failure") }
        XCTAssertEqual(kids(store.keySet(for: path)), ["k1"])

        _ = try write("a.json", document(TestSigner.es256.jwk(#""kid":"k2""#)))
        XCTAssertEqual(store.refresh(force: false), [path: .reloaded(keys: 1)])
        XCTAssertEqual(kids(store.keySet(for: path)), ["k2"])
    }

    func testAFileThatNeverLoadedIsUnavailableUntilItAppears() throws {
        let store = JWKSStore(root: nil, logger: Logger(label: "test"))
        let path = directory.appendingPathComponent("later.json").path
        XCTAssertEqual(store.keySet(for: path).failure, .keysUnavailable)
        _ = try write("later.json", document(TestSigner.edDSA.jwk(#""kid":"e""#)))
        XCTAssertEqual(store.refresh(force: false), [path: .reloaded(keys: 1)])
        XCTAssertEqual(kids(store.keySet(for: path)), ["e"])
    }

    func testForcedRefreshRereadsEveryFile() throws {
        let store = JWKSStore(root: nil, logger: Logger(label: "test"))
        let path = try write("a.json", document(TestSigner.es256.jwk()))
        _ = store.keySet(for: path)
        XCTAssertEqual(store.refresh(force: true), [path: .reloaded(keys: 1)])
    }

    func testTheRootConfinesWhatCanBeRead() throws {
        let store = JWKSStore(root: directory.path, logger: Logger(label: "test"))
        let path = try write("a.json", document(TestSigner.es256.jwk(#""kid":"in""#)))
        XCTAssertEqual(kids(store.keySet(for: "a.json")), ["in"], "relative names resolve inside the root")
        XCTAssertEqual(kids(store.keySet(for: path)), ["in"], "absolute names inside the root are fine")
        XCTAssertEqual(store.keySet(for: "/etc/passwd").failure, .keysUnavailable)
        XCTAssertEqual(store.keySet(for: "../a.json").failure, .keysUnavailable)
        XCTAssertEqual(store.keySet(for: directory.path + "/../x/a.json").failure, .keysUnavailable)
        XCTAssertEqual(JWKSFile.resolve("/etc/passwd", root: directory.path).failure?.reason, "outside the JWKS root \(directory.path)")
        XCTAssertEqual(JWKSFile.resolve("a/../../b", root: nil).failure?.reason, "'..' is not allowed in JWKS paths")
    }

    func testOversizedFilesAreRefused() throws {
        let path = try write("big.json", document(TestSigner.es256.jwk()) + String(repeating: " ", count: JWKSFile.maxBytes))
        XCTAssertEqual(JWKSFile.load(path).keys.failure?.reason, "larger than \(JWKSFile.maxBytes) bytes")
    }
}
