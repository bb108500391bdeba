import XCTest
@testable import HerzCore

/// `quic.secret_file`: read relative to the config when it is loaded, size-checked, redacted in dumps.
final class QUICSecretConfigTests: TemporaryDirectoryTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try Data("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n".utf8).write(to: directory.appendingPathComponent("cert.pem"))
        try Data("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n".utf8).write(to: directory.appendingPathComponent("key.pem"))
    }

    private func load(secretFile: String) throws -> HerzConfig {
        let yamlPath = directory.appendingPathComponent("herz.yaml").path
        try config(listenerExtra: """
        protocol: quic
        tls: { cert: \(directory.path)/cert.pem, key: \(directory.path)/key.pem }
        quic: { secret_file: \(secretFile) }
        """).write(toFile: yamlPath, atomically: true, encoding: .utf8)
        return try ConfigLoader.load(path: yamlPath)
    }

    private func messages(secretFile: String) -> [String] {
        do {
            _ = try load(secretFile: secretFile)
            XCTFail("config unexpectedly loaded")
            return []
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            XCTFail("unexpected error \(error)")
            return []
        }
    }

    func testTheSecretIsReadRelativeToTheConfigAndNotDumped() throws {
        let bytes = (0..<48).map { UInt8($0) }
        try Data(bytes).write(to: directory.appendingPathComponent("quic.key"))
        let config = try load(secretFile: "quic.key")
        let secret = try XCTUnwrap(config.listeners[0].quic.secret)
        XCTAssertEqual(secret.bytes, bytes)
        XCTAssertEqual(secret.file, "quic.key")
        let dump = config.redactedDump()
        XCTAssertTrue(dump.contains(#""secret_file": "<redacted>""#), dump)
        XCTAssertEqual(secret.description, "secret from quic.key")
    }

    func testAMissingOrShortSecretIsAnErrorAtItsPosition() throws {
        let missing = messages(secretFile: "nope.key")
        XCTAssertEqual(missing.count, 1)
        XCTAssertTrue(missing[0].contains("herz.yaml:5:"), missing[0])
        XCTAssertTrue(missing[0].contains("nope.key"), missing[0])

        try Data(repeating: 7, count: 16).write(to: directory.appendingPathComponent("short.key"))
        let short = messages(secretFile: "short.key")
        XCTAssertEqual(short.count, 1)
        XCTAssertTrue(short[0].contains("holds 16 bytes; needs 32 to 4096"), short[0])
    }
}
