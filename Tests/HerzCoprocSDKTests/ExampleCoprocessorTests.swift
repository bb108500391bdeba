import Foundation
import Glibc
import HerzCoprocSDK
import XCTest

/// Runs the built `herz-coproc-swift-example` as a separate process, as the kernel would.
final class ExampleCoprocessorTests: XCTestCase {
    private var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("herz-coproc-swift-example")
    }

    func testExampleAddsItsHeaderAndExitsZeroOnSigterm() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable.path), "build the example first")
        let path = "/tmp/herz-example-\(getpid()).sock"
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--listen", "unix:\(path)", "--spin-us", "5"]
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let kernel = try KernelHarness(path: path, sessionId: 42, workers: 1)
        XCTAssertEqual(kernel.ack.pid, UInt32(process.processIdentifier))
        XCTAssertEqual(try kernel.attach.peerCredentials().pid, process.processIdentifier)
        guard case .hello(let hello) = try kernel.hello(name: "swift-example") else { return XCTFail("refused") }
        XCTAssertEqual(hello.capabilities, ["phase:response_headers"])
        XCTAssertEqual(try kernel.call(.responseHeaders).result,
                       .headers(.continue, HeaderMutation(set: [WireHeader("x-herz-swift-example", "1")])))

        kill(process.processIdentifier, SIGTERM)
        XCTAssertTrue(kernel.attachClosed(), "the session is closed on SIGTERM")
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertNotEqual(access("\(path).\(process.processIdentifier).ctl", F_OK), 0, "control file removed")
    }

    func testSharedArgumentsParseListenAndSpin() throws {
        let arguments = try CoprocessorArguments.parse(["--listen", "unix:/run/herz/jwt.sock", "--spin-us", "7"])
        let options = try arguments.options()
        XCTAssertEqual(options.listenPath, "/run/herz/jwt.sock")
        XCTAssertEqual(options.spinMicros, 7)
        XCTAssertEqual(try CoprocessorArguments.parse(["--listen", "unix:/x"]).spinMicros, 20)
        XCTAssertThrowsError(try CoprocessorArguments.parse(["--listen", "tcp:1.2.3.4"]))
    }
}
