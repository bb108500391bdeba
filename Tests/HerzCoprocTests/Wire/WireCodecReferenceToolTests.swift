import Foundation
import HerzCoproc
import NIOCore
import XCTest

/// Swift's frames against the reference implementation: `capnp decode` reads what Swift wrote, and
/// Swift reads what `capnp encode` wrote. Skipped when `capnp` is not on PATH.
final class WireCodecReferenceToolTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(WireTestEnvironment.capnpPath == nil, "capnp not on PATH")
    }

    private func assertReferenceDecodes(_ frame: [UInt8], schema: String, type: String, as expected: String,
                                        file: StaticString = #filePath, line: UInt = #line) throws {
        let text = try WireTestEnvironment.referenceDecode(frame, schema: schema, type: type)
        XCTAssertEqual(text, expected, file: file, line: line)
    }

    // MARK: Swift → capnp decode

    func testReferenceToolReadsSwiftRingFrames() throws {
        let call = KernelToCoprocessor.call(CoprocCall(
            callId: 1, streamId: 2, deadlineNanos: 3, phase: .requestHeaders, endStream: true,
            headers: [WireHeader(":method", "GET"), WireHeader("x-empty", "")],
            body: ByteBuffer(bytes: [0x00, 0xFF, 0x41]), route: "api", filterConfig: #"{"k":1}"#))
        try assertReferenceDecodes(WireCodec.encodeToBytes(call), schema: "ring.capnp", type: "KernelToCoprocessor", as:
            #"(call = (callId = 1, streamId = 2, deadlineNanos = 3, phase = requestHeaders, endStream = true, "#
            + #"headers = [(name = ":method", value = "GET"), (name = "x-empty")], body = "\000\377A", "#
            + #"route = "api", filterConfig = "{\"k\":1}"))"#)
        try assertReferenceDecodes(WireCodec.encodeToBytes(.streamEnd(streamId: 9, reset: true)),
                                   schema: "ring.capnp", type: "KernelToCoprocessor",
                                   as: "(streamEnd = (streamId = 9, reset = true))")
    }

    func testReferenceToolReadsSwiftAnswers() throws {
        let cases: [(CoprocAnswer, String)] = [
            (CoprocAnswer(callId: 2, result: .headers(.stopIteration, HeaderMutation(
                set: [WireHeader("x-a", "1")], append: [WireHeader("x-b", "2")], remove: ["x-c"]))),
             #"(answer = (callId = 2, headers = (status = stopIteration, mutation = (set = [(name = "x-a", value = "1")], append = [(name = "x-b", value = "2")], remove = ["x-c"]))))"#),
            (CoprocAnswer(callId: 3, result: .data(.stopIterationNoBuffer, body: nil)),
             "(answer = (callId = 3, data = (status = stopIterationNoBuffer, replaceBody = false)))"),
            (CoprocAnswer(callId: 4, result: .data(.continue, body: ByteBuffer(bytes: [0, 255]))),
             #"(answer = (callId = 4, data = (status = continue, replaceBody = true, body = "\000\377")))"#),
            (CoprocAnswer(callId: 5, result: .trailers(.continue, HeaderMutation())),
             "(answer = (callId = 5, trailers = (status = continue, mutation = ())))"),
            (CoprocAnswer(callId: 6, result: .localReply(CoprocLocalReply(
                status: 403, headers: [WireHeader("content-type", "text/plain")], body: ByteBuffer(string: "no"), reason: "denied"))),
             #"(answer = (callId = 6, localReply = (status = 403, headers = [(name = "content-type", value = "text/plain")], body = "no", reason = "denied")))"#),
            (CoprocAnswer(callId: 7, result: .failure(.deadlineExceeded, message: "late")),
             #"(answer = (callId = 7, failure = (kind = deadlineExceeded, message = "late")))"#),
        ]
        for (answer, expected) in cases {
            try assertReferenceDecodes(WireCodec.encodeToBytes(answer), schema: "ring.capnp", type: "CoprocessorToKernel", as: expected)
        }
    }

    func testReferenceToolReadsSwiftControlAndAttachFrames() throws {
        let control: [(ControlMessage, String)] = [
            (.hello(Hello(name: "jwt", buildVersion: "1.0", capabilities: ["reload", "phase:request_headers"],
                          pid: 42, sessionId: 7, generation: 8)),
             #"(hello = (protocolVersion = 1, ringVersion = 1, name = "jwt", buildVersion = "1.0", capabilities = ["reload", "phase:request_headers"], pid = 42, sessionId = 7, generation = 8))"#),
            (.refuse(reason: "name mismatch"), #"(refuse = (reason = "name mismatch"))"#),
            (.heartbeatAck(sequence: 5, sentNanos: 6), "(heartbeatAck = (sequence = 5, sentNanos = 6))"),
            (.drain(deadlineMillis: 100), "(drain = (deadlineMillis = 100))"),
            (.drained(inFlight: 1), "(drained = (inFlight = 1))"),
            (.statsRequest, "(statsRequest = ())"),
            (.stats(CoprocStats(callsServed: 1, callsFailed: 2, inFlight: 3, rssBytes: 4, uptimeMillis: 5)),
             "(stats = (callsServed = 1, callsFailed = 2, inFlight = 3, rssBytes = 4, uptimeMillis = 5))"),
            (.reload(payload: "{}"), #"(reload = (payload = "{}"))"#),
            (.reloadResult(ok: false, message: "bad"), #"(reloadResult = (ok = false, message = "bad"))"#),
        ]
        for (message, expected) in control {
            try assertReferenceDecodes(WireCodec.encode(message), schema: "control.capnp", type: "ControlMessage", as: expected)
        }
        try assertReferenceDecodes(
            WireCodec.encode(.attach(sessionId: 3, layout: RingLayout(workers: 2, ringBytes: 4096, regionBytes: 20992))),
            schema: "control.capnp", type: "AttachFrame",
            as: "(attach = (sessionId = 3, layout = (workers = 2, ringBytes = 4096, regionBytes = 20992, layoutVersion = 1)))")
        try assertReferenceDecodes(
            WireCodec.encode(.attachAck(AttachAck(sessionId: 3, ok: true, controlEndpoint: "ipc:///x.ctl", pid: 9))),
            schema: "control.capnp", type: "AttachFrame",
            as: #"(attachAck = (sessionId = 3, ok = true, controlEndpoint = "ipc:///x.ctl", pid = 9))"#)
    }

    func testReferenceToolReadsALargeMultiSegmentFrame() throws {
        let frame = WireSamples.ringFrames[2]
        let text = try WireTestEnvironment.referenceDecode(WireCodec.encodeToBytes(frame), schema: "ring.capnp",
                                                           type: "KernelToCoprocessor")
        XCTAssertTrue(text.hasPrefix("(call = (callId = 5, streamId = 6, deadlineNanos = 7, phase = responseBody, endStream = false, body = \"\\000\\001\\002"), text.prefix(200).description)
    }

    // MARK: capnp encode → Swift

    func testSwiftReadsReferenceAnswers() throws {
        let cases: [(String, CoprocAnswer)] = [
            (#"(answer = (callId = 1, headers = (status = continueAndDontEndStream, mutation = (set = [(name = "a", value = "1")], append = [(name = "b", value = "2")], remove = ["c", "d"]))))"#,
             CoprocAnswer(callId: 1, result: .headers(.continueAndDontEndStream, HeaderMutation(
                set: [WireHeader("a", "1")], append: [WireHeader("b", "2")], remove: ["c", "d"])))),
            ("(answer = (callId = 2, headers = (status = stopAllIterationAndWatermark)))",
             CoprocAnswer(callId: 2, result: .headers(.stopAllIterationAndWatermark, HeaderMutation()))),
            (#"(answer = (callId = 3, data = (status = stopIterationAndBuffer, replaceBody = true, body = "\x00\xff")))"#,
             CoprocAnswer(callId: 3, result: .data(.stopIterationAndBuffer, body: ByteBuffer(bytes: [0, 255])))),
            (#"(answer = (callId = 4, data = (status = stopIterationAndWatermark, replaceBody = false, body = "ignored")))"#,
             CoprocAnswer(callId: 4, result: .data(.stopIterationAndWatermark, body: nil))),
            (#"(answer = (callId = 5, trailers = (status = stopIteration, mutation = (remove = ["grpc-message"]))))"#,
             CoprocAnswer(callId: 5, result: .trailers(.stopIteration, HeaderMutation(remove: ["grpc-message"])))),
            (#"(answer = (callId = 6, localReply = (status = 401, headers = [(name = "www-authenticate", value = "Bearer")], body = "who?", reason = "no token")))"#,
             CoprocAnswer(callId: 6, result: .localReply(CoprocLocalReply(
                status: 401, headers: [WireHeader("www-authenticate", "Bearer")], body: ByteBuffer(string: "who?"), reason: "no token")))),
            (#"(answer = (callId = 7, failure = (kind = overloaded, message = "queue full")))"#,
             CoprocAnswer(callId: 7, result: .failure(.overloaded, message: "queue full"))),
        ]
        for (text, expected) in cases {
            let frame = try WireEncoderReference.encodeRing(text, type: "CoprocessorToKernel")
            XCTAssertEqual(try frame.withUnsafeBytes { try WireCodec.decodeAnswer($0) }, expected, text)
        }
    }

    func testSwiftReadsReferenceCallControlAndAttachFrames() throws {
        let call = try WireEncoderReference.encodeRing(
            #"(call = (callId = 10, streamId = 11, deadlineNanos = 12, phase = responseTrailers, endStream = true, headers = [(name = "grpc-status", value = "0")], route = "r", filterConfig = "{}"))"#,
            type: "KernelToCoprocessor")
        XCTAssertEqual(try call.withUnsafeBytes { try WireCodec.decodeKernelToCoprocessor($0) },
                       .call(CoprocCall(callId: 10, streamId: 11, deadlineNanos: 12, phase: .responseTrailers, endStream: true,
                                        headers: [WireHeader("grpc-status", "0")], route: "r", filterConfig: "{}")))

        let hello = try WireEncoderReference.encodeControl(
            #"(hello = (protocolVersion = 1, ringVersion = 1, name = "jwt", buildVersion = "2.0", capabilities = ["reload"], pid = 77, sessionId = 5, generation = 6))"#,
            type: "ControlMessage")
        XCTAssertEqual(try hello.withUnsafeBytes { try WireCodec.decodeControl($0) },
                       .hello(Hello(name: "jwt", buildVersion: "2.0", capabilities: ["reload"], pid: 77, sessionId: 5, generation: 6)))

        let attach = try WireEncoderReference.encodeControl(
            "(attach = (sessionId = 3, layout = (workers = 4, ringBytes = 65536, regionBytes = 530432, layoutVersion = 1)))",
            type: "AttachFrame")
        XCTAssertEqual(try attach.withUnsafeBytes { try WireCodec.decodeAttachFrame($0) },
                       .attach(sessionId: 3, layout: RingLayout(workers: 4, ringBytes: 65536, regionBytes: 530432)))
    }

    /// A newer peer's frames (a new union member, a new enum value) are refused as invalid values.
    func testNewerPeerValuesAreInvalidValues() throws {
        let schema = try String(contentsOfFile: WireTestEnvironment.schema("ring.capnp"), encoding: .utf8)
            .replacingOccurrences(of: "badInput @4;", with: "badInput @4;\n  fromTheFuture @5;")
            .replacingOccurrences(of: "failure @5 :Failure;", with: "failure @5 :Failure;\n    future @6 :UInt64;")
            .replacingOccurrences(of: "responseTrailers @5;", with: "responseTrailers @5;\n  responseFuture @6;")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herz-wire-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ring.capnp").path
        try schema.write(toFile: path, atomically: true, encoding: .utf8)

        func frame(_ text: String, _ type: String) throws -> [UInt8] {
            let (status, output, errors) = try WireTestEnvironment.run(
                WireTestEnvironment.capnpPath!, ["encode", path, type], input: Array(text.utf8))
            XCTAssertEqual(status, 0, errors)
            return output
        }
        let cases: [([UInt8], (UnsafeRawBufferPointer) throws -> Any)] = [
            (try frame("(answer = (callId = 1, future = 5))", "CoprocessorToKernel"), { try WireCodec.decodeAnswer($0) }),
            (try frame("(answer = (callId = 1, failure = (kind = fromTheFuture)))", "CoprocessorToKernel"), { try WireCodec.decodeAnswer($0) }),
            (try frame("(call = (callId = 1, phase = responseFuture))", "KernelToCoprocessor"), { try WireCodec.decodeKernelToCoprocessor($0) }),
        ]
        for (bytes, decode) in cases {
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try decode($0) }) {
                guard case .invalidValue? = $0 as? WireError else { return XCTFail("expected invalidValue, got \($0)") }
            }
        }
    }
}
