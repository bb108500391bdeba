import Foundation
import HerzCoproc
import NIOCore

/// Messages covering every union member of both schemas, shared by the Wire tests.
enum WireSamples {
    /// 0x00…0xff repeated: binary bytes including NUL and 0xff.
    static func binary(_ count: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0) })
    }

    static let requestHeaders = [WireHeader(":method", "GET"), WireHeader(":path", "/a?b=c"),
                                 WireHeader("x-empty", ""), WireHeader("x-ünïcode", "wert – ✓")]

    static let ringFrames: [KernelToCoprocessor] = [
        .call(CoprocCall(callId: 1, streamId: 2, deadlineNanos: 3, phase: .requestHeaders, endStream: false,
                         headers: requestHeaders, route: "api", filterConfig: #"{"k":1}"#)),
        .call(CoprocCall(callId: .max, streamId: 0, deadlineNanos: .max, phase: .requestBody, endStream: true,
                         body: binary(256))),
        .call(CoprocCall(callId: 5, streamId: 6, deadlineNanos: 7, phase: .responseBody, endStream: false,
                         body: binary(64 * 1024))),
        .call(CoprocCall(callId: 8, streamId: 9, deadlineNanos: 10, phase: .responseTrailers, endStream: true,
                         headers: [WireHeader("grpc-status", "0")])),
    ] + CallPhase.allCases.map {
        .call(CoprocCall(callId: 11, streamId: 12, deadlineNanos: 13, phase: $0, endStream: false))
    } + [
        .streamEnd(streamId: 42, reset: false),
        .streamEnd(streamId: .max, reset: true),
    ]

    static let mutation = HeaderMutation(set: [WireHeader("x-set", "1"), WireHeader("x-set-2", "")],
                                         append: [WireHeader("set-cookie", "a=b")], remove: ["x-drop", "X-Other"])

    static let answers: [CoprocAnswer] = [
        CoprocAnswer(callId: 1, result: .headers(.continue, HeaderMutation())),
        CoprocAnswer(callId: 2, result: .headers(.stopIteration, mutation)),
        CoprocAnswer(callId: 3, result: .headers(.continueAndDontEndStream, HeaderMutation(remove: ["a"]))),
        CoprocAnswer(callId: 4, result: .headers(.stopAllIterationAndBuffer, mutation)),
        CoprocAnswer(callId: 5, result: .headers(.stopAllIterationAndWatermark, mutation)),
        CoprocAnswer(callId: 6, result: .data(.continue, body: nil)),
        CoprocAnswer(callId: 7, result: .data(.continue, body: ByteBuffer())),
        CoprocAnswer(callId: 8, result: .data(.stopIterationAndBuffer, body: binary(300))),
        CoprocAnswer(callId: 9, result: .data(.stopIterationAndWatermark, body: binary(64 * 1024))),
        CoprocAnswer(callId: 10, result: .data(.stopIterationNoBuffer, body: nil)),
        CoprocAnswer(callId: 11, result: .trailers(.continue, HeaderMutation())),
        CoprocAnswer(callId: 12, result: .trailers(.stopIteration, mutation)),
        CoprocAnswer(callId: 13, result: .localReply(CoprocLocalReply(status: 403))),
        CoprocAnswer(callId: .max, result: .localReply(CoprocLocalReply(
            status: 429, headers: [WireHeader("retry-after", "1")], body: binary(10), reason: "rate limited"))),
        CoprocAnswer(callId: 15, result: .failure(.internal, message: "")),
        CoprocAnswer(callId: 16, result: .failure(.unsupported, message: "no trailers")),
        CoprocAnswer(callId: 17, result: .failure(.overloaded, message: "busy")),
        CoprocAnswer(callId: 18, result: .failure(.deadlineExceeded, message: "late")),
        CoprocAnswer(callId: 19, result: .failure(.badInput, message: "bad")),
    ]

    static let controlMessages: [ControlMessage] = [
        .hello(Hello(name: "jwt", buildVersion: "1.2.3", capabilities: ["phase:request_headers", "reload"],
                     pid: 4711, sessionId: 99, generation: 123_456_789)),
        .hello(Hello(protocolVersion: 7, ringVersion: 8, name: "", buildVersion: "", pid: 0, sessionId: 0)),
        .refuse(reason: "ring protocol 2, kernel speaks 1"),
        .heartbeat(sequence: 1, sentNanos: .max),
        .heartbeatAck(sequence: 2, sentNanos: 3),
        .drain(deadlineMillis: 5000),
        .drained(inFlight: 0),
        .drained(inFlight: 3),
        .statsRequest,
        .stats(CoprocStats(callsServed: 10, callsFailed: 1, inFlight: 2, rssBytes: 1 << 40, uptimeMillis: 77)),
        .stats(CoprocStats()),
        .reload(payload: #"{"keys":[]}"#),
        .reload(payload: ""),
        .reloadResult(ok: true, message: ""),
        .reloadResult(ok: false, message: "bad key file"),
    ]

    static let attachFrames: [AttachFrame] = [
        .attach(sessionId: 1, layout: RingLayout(workers: 2, ringBytes: 1 << 20, regionBytes: 4096 + 2 * 2 * (256 + (1 << 20)))),
        .attachAck(AttachAck(sessionId: 1, ok: true, controlEndpoint: "ipc:///run/herz/jwt.sock.4711.ctl", pid: 4711)),
        .attachAck(AttachAck(sessionId: 2, ok: false, error: "layout version 2 unsupported")),
    ]
}

/// Locations and the reference tool for tests that compare with `capnp`.
enum WireTestEnvironment {
    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Wire, HerzCoprocTests, Tests, root
        return url
    }()

    static func schema(_ name: String) -> String { repoRoot.appendingPathComponent("schemas/\(name)").path }

    /// The `capnp` tool's path, nil when it is not on PATH.
    static let capnpPath: String? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return paths.map { "\($0)/capnp" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Runs `executable` with `arguments`, feeding `input` on stdin; returns (status, stdout, stderr).
    static func run(_ executable: String, _ arguments: [String], input: [UInt8] = []) throws -> (Int32, [UInt8], String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = repoRoot
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        signal(SIGPIPE, SIG_IGN)  // a tool that exits early must not kill the test process
        try process.run()
        // Write and read concurrently so large frames cannot deadlock on full pipes.
        let done = DispatchSemaphore(value: 0)
        let errorData = Locked(Data())
        Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
            done.signal()
        }.start()
        Thread {
            errorData.value = (try? stderr.fileHandleForReading.readToEnd()) ?? Data()
            done.signal()
        }.start()
        let output = (try? stdout.fileHandleForReading.readToEnd()) ?? Data()
        done.wait()
        done.wait()
        process.waitUntilExit()
        return (process.terminationStatus, [UInt8](output), String(decoding: errorData.value, as: UTF8.self))
    }

    /// `capnp decode --short SCHEMA TYPE` of `frame`, trimmed.
    static func referenceDecode(_ frame: [UInt8], schema: String, type: String) throws -> String {
        let capnp = try XCTUnwrapCapnp()
        let (status, output, errors) = try run(capnp, ["decode", "--short", self.schema(schema), type], input: frame)
        guard status == 0 else { throw ToolError(message: "capnp decode failed (\(status)): \(errors)") }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `capnp encode SCHEMA TYPE` of the text literal `text`.
    static func referenceEncode(_ text: String, schema: String, type: String) throws -> [UInt8] {
        let capnp = try XCTUnwrapCapnp()
        let (status, output, errors) = try run(capnp, ["encode", self.schema(schema), type], input: Array(text.utf8))
        guard status == 0 else { throw ToolError(message: "capnp encode failed (\(status)): \(errors)") }
        return output
    }

    private static func XCTUnwrapCapnp() throws -> String {
        guard let capnp = capnpPath else { throw ToolError(message: "capnp not on PATH") }
        return capnp
    }

    struct ToolError: Error { let message: String }
}

/// A value shared with a helper thread.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Value
    init(_ value: Value) { self._value = value }
    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return _value }
        set { lock.lock(); defer { lock.unlock() }; _value = newValue }
    }
}
