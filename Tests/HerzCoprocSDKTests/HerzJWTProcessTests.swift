import Foundation
import Glibc
import HerzCoprocSDK
import XCTest

/// Runs the built `herz-jwt` as a separate process, as the kernel would: handshake under its
/// name, a call answered from a JWKS file, the control-plane `reload` picking up a rotated file
/// (with polling effectively off), and exit 0 on SIGTERM. Tokens and keys are RFC 7515 / 8037's.
final class HerzJWTProcessTests: XCTestCase {
    private var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("herz-jwt")
    }

    /// RFC 8037 A.1's Ed25519 public key and RFC 7515 A.3's P-256 key and ES256 token (expired in 2011).
    static let ed25519JWKS = #"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#
    static let p256JWKS = #"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#
    static let es256Token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
    /// The settings the kernel's jwt_authn filter sends for one provider reading `keys.json`.
    static let settings = #"{"version":1,"max_token_bytes":8192,"allow_missing":false,"providers":[{"name":"rfc","audiences":[],"#
        + #""local_jwks":{"filename":"keys.json"},"from_headers":[{"name":"authorization","value_prefix":"Bearer "}],"#
        + #""from_params":[],"from_cookies":[],"forward":false,"claim_to_headers":[],"clock_skew_seconds":60,"require_expiration":false}]}"#

    func testReloadOverTheControlSocketPicksUpARotatedJWKS() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable.path), "build herz-jwt first")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herz-jwt-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let jwks = directory.appendingPathComponent("keys.json")
        try Data(Self.ed25519JWKS.utf8).write(to: jwks, options: .atomic)

        let path = "/tmp/herz-jwt-\(getpid()).sock"
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--listen", "unix:\(path)", "--jwks-root", directory.path, "--jwks-poll-ms", "600000", "--spin-us", "5"]
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let kernel = try KernelHarness(path: path, sessionId: 7, workers: 1)
        guard case .hello(let hello) = try kernel.hello(name: "jwt") else { return XCTFail("refused") }
        XCTAssertEqual(hello.capabilities, ["phase:request_headers", "reload"])

        func reason() throws -> String? {
            let answer = try kernel.call(.requestHeaders, headers: [WireHeader(":path", "/"), WireHeader("authorization", "Bearer \(Self.es256Token)")],
                                         endStream: true, filterConfig: Self.settings)
            guard case .localReply(let reply) = answer.result else { return nil }
            return reply.reason
        }
        XCTAssertEqual(try reason(), "jwt_no_key", "only an Ed25519 key so far")

        try Data(Self.p256JWKS.utf8).write(to: jwks, options: .atomic)
        XCTAssertEqual(try reason(), "jwt_no_key", "no polling: the rotation is not seen yet")
        XCTAssertEqual(try kernel.control(.reload(payload: "")), .reloadResult(ok: true, message: "reloaded 1 jwks file(s)"))
        XCTAssertEqual(try reason(), "jwt_expired", "the RFC key verifies the RFC token, which expired in 2011")

        try Data("{".utf8).write(to: jwks, options: .atomic)
        guard case .reloadResult(false, let message) = try kernel.control(.reload(payload: "")) else { return XCTFail("a broken file reloaded") }
        XCTAssertTrue(message.contains("keys.json"), message)
        XCTAssertEqual(try reason(), "jwt_expired", "the last good keys stay")

        kernel.send(.streamEnd(streamId: 1, reset: false))  // a draining session waits for its streams to end
        kill(process.processIdentifier, SIGTERM)
        XCTAssertTrue(kernel.attachClosed())
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }
}
