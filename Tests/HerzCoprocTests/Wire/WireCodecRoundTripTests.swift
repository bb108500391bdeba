import HerzCoproc
import NIOCore
import XCTest

/// Every message variant of both schemas survives encode → decode unchanged.
final class WireCodecRoundTripTests: XCTestCase {
    func testEveryRingFrameRoundTrips() throws {
        for frame in WireSamples.ringFrames {
            let bytes = WireCodec.encodeToBytes(frame)
            XCTAssertEqual(bytes.count % 8, 0)
            XCTAssertEqual(try bytes.withUnsafeBytes { try WireCodec.decodeKernelToCoprocessor($0) }, frame)
        }
    }

    func testEveryAnswerRoundTrips() throws {
        for answer in WireSamples.answers {
            let bytes = WireCodec.encodeToBytes(answer)
            XCTAssertEqual(bytes.count % 8, 0)
            XCTAssertEqual(try bytes.withUnsafeBytes { try WireCodec.decodeAnswer($0) }, answer)
        }
    }

    func testEveryControlMessageRoundTrips() throws {
        for message in WireSamples.controlMessages {
            let bytes = WireCodec.encode(message)
            XCTAssertEqual(try bytes.withUnsafeBytes { try WireCodec.decodeControl($0) }, message)
        }
    }

    func testEveryAttachFrameRoundTrips() throws {
        for frame in WireSamples.attachFrames {
            let bytes = WireCodec.encode(frame)
            XCTAssertEqual(try bytes.withUnsafeBytes { try WireCodec.decodeAttachFrame($0) }, frame)
        }
    }

    func testEncodeIntoBufferMatchesTheArrayAndReportsTheNeededSize() throws {
        for answer in WireSamples.answers {
            let expected = WireCodec.encodeToBytes(answer)
            var buffer = [UInt8](repeating: 0xAA, count: expected.count + 16)
            let written = try buffer.withUnsafeMutableBytes { try WireCodec.encode(answer, into: $0) }
            XCTAssertEqual(Array(buffer[..<written]), expected)

            var small = [UInt8](repeating: 0, count: expected.count - 8)
            XCTAssertThrowsError(try small.withUnsafeMutableBytes { try WireCodec.encode(answer, into: $0) }) {
                XCTAssertEqual($0 as? WireError, .bufferTooSmall(needed: expected.count))
            }
        }
        var empty: [UInt8] = []
        XCTAssertThrowsError(try empty.withUnsafeMutableBytes { try WireCodec.encode(WireSamples.ringFrames[0], into: $0) }) {
            guard case .bufferTooSmall(let needed)? = $0 as? WireError else { return XCTFail("\($0)") }
            XCTAssertGreaterThan(needed, 0)
        }
    }

    func testLargeBodiesSpanSegmentsAndStillRoundTrip() throws {
        let frame = WireSamples.ringFrames[2]  // 64 KiB body: beyond the encoder's reused first segment
        let bytes = WireCodec.encodeToBytes(frame)
        XCTAssertGreaterThan(bytes.count, 64 * 1024)
        XCTAssertEqual(try bytes.withUnsafeBytes { try WireCodec.framedLength($0, limit: .max) }, bytes.count)
        XCTAssertEqual(try bytes.withUnsafeBytes { try WireCodec.decodeKernelToCoprocessor($0) }, frame)
    }

    func testDecodingAcceptsEveryAlignment() throws {
        let answer = WireSamples.answers[13]
        let bytes = WireCodec.encodeToBytes(answer)
        for offset in 0..<8 {
            let shifted = [UInt8](repeating: 0, count: offset) + bytes
            let decoded = try shifted.withUnsafeBytes {
                try WireCodec.decodeAnswer(UnsafeRawBufferPointer(rebasing: $0[offset...]))
            }
            XCTAssertEqual(decoded, answer, "offset \(offset)")
        }
    }

    func testDataWithoutReplacementTravelsAsReplaceBodyFalse() throws {
        let keep = WireCodec.encodeToBytes(CoprocAnswer(callId: 1, result: .data(.continue, body: nil)))
        let empty = WireCodec.encodeToBytes(CoprocAnswer(callId: 1, result: .data(.continue, body: ByteBuffer())))
        XCTAssertNotEqual(keep, empty)
        XCTAssertEqual(try empty.withUnsafeBytes { try WireCodec.decodeAnswer($0) }.result, .data(.continue, body: ByteBuffer()))
    }

    func testInvalidUTF8HeaderBytesDecodeWithReplacementCharacters() throws {
        // Built by the reference tool: a header value that is not UTF-8.
        try XCTSkipIf(WireTestEnvironment.capnpPath == nil, "capnp not on PATH")
        let frame = try WireEncoderReference.encodeRing(
            #"(call = (callId = 1, phase = requestHeaders, headers = [(name = "x", value = "a\xffb")]))"#,
            type: "KernelToCoprocessor")
        guard case .call(let call) = try frame.withUnsafeBytes({ try WireCodec.decodeKernelToCoprocessor($0) }) else {
            return XCTFail("not a call")
        }
        XCTAssertEqual(call.headers, [WireHeader("x", "a\u{FFFD}b")])
    }
}

/// Shorthands for frames built by the reference `capnp encode`.
enum WireEncoderReference {
    static func encodeRing(_ text: String, type: String) throws -> [UInt8] {
        try WireTestEnvironment.referenceEncode(text, schema: "ring.capnp", type: type)
    }

    static func encodeControl(_ text: String, type: String) throws -> [UInt8] {
        try WireTestEnvironment.referenceEncode(text, schema: "control.capnp", type: type)
    }
}
