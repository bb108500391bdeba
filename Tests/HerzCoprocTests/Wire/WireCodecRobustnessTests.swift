import HerzCoproc
import XCTest

/// Malformed input of every kind ends in a value or a `WireError`, never a crash.
final class WireCodecRobustnessTests: XCTestCase {
    /// Every decoder, each tolerating any outcome except a non-`WireError` error.
    private static let decoders: [(String, (UnsafeRawBufferPointer) throws -> Any)] = [
        ("KernelToCoprocessor", { try WireCodec.decodeKernelToCoprocessor($0) }),
        ("CoprocessorToKernel", { try WireCodec.decodeAnswer($0) }),
        ("ControlMessage", { try WireCodec.decodeControl($0) }),
        ("AttachFrame", { try WireCodec.decodeAttachFrame($0) }),
    ]

    /// Every sample frame, small ones only (the 64 KiB bodies would make mutation slow, not better).
    private static let frames: [[UInt8]] = (
        WireSamples.ringFrames.map { WireCodec.encodeToBytes($0) }
            + WireSamples.answers.map { WireCodec.encodeToBytes($0) }
            + WireSamples.controlMessages.map { WireCodec.encode($0) }
            + WireSamples.attachFrames.map { WireCodec.encode($0) }
    ).filter { $0.count < 4096 }

    /// Decodes `bytes` with every decoder; returns how many produced a value.
    @discardableResult
    private func decodeWithEveryDecoder(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> Int {
        var values = 0
        for (name, decode) in Self.decoders {
            do {
                _ = try bytes.withUnsafeBytes { try decode($0) }
                values += 1
            } catch is WireError {
            } catch {
                XCTFail("\(name): non-wire error \(error)", file: file, line: line)
            }
        }
        return values
    }

    private func assertMalformed(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        for (name, decode) in Self.decoders {
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try decode($0) }, name, file: file, line: line) {
                guard case .malformed? = $0 as? WireError else {
                    return XCTFail("\(name): expected malformed, got \($0)", file: file, line: line)
                }
            }
        }
    }

    func testEveryTruncationAndEveryTrailingByteIsMalformed() {
        for frame in Self.frames {
            for length in 0..<frame.count {
                assertMalformed(Array(frame[..<length]))
            }
            assertMalformed(frame + [0])
            assertMalformed(frame + [UInt8](repeating: 0, count: 8))
        }
    }

    func testRandomBytesNeverCrash() {
        var random = SplitMix64(seed: 0x4865_727A)
        for _ in 0..<3000 {
            let bytes = (0..<Int(random.next() % 512)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            decodeWithEveryDecoder(bytes)
        }
    }

    func testRandomWordsBehindAValidSegmentTableNeverCrash() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<3000 {
            let words = 1 + Int(random.next() % 48)
            var bytes = [UInt8](repeating: 0, count: 8 + words * 8)
            bytes[4] = UInt8(words)  // one segment of `words` words
            for index in 8..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: random.next()) }
            decodeWithEveryDecoder(bytes)
        }
    }

    func testBitFlippedFramesNeverCrash() {
        var random = SplitMix64(seed: 0xC0FFEE)
        var decodedSomething = 0
        for frame in Self.frames {
            for _ in 0..<300 {
                var bytes = frame
                for _ in 0...(random.next() % 4) {
                    let bit = Int(random.next() % UInt64(bytes.count * 8))
                    bytes[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
                }
                decodedSomething += decodeWithEveryDecoder(bytes)
            }
        }
        XCTAssertGreaterThan(decodedSomething, 0, "mutations outside the header should still decode")
    }

    func testRandomByteOverwritesNeverCrash() {
        var random = SplitMix64(seed: 99)
        for frame in Self.frames {
            for _ in 0..<200 {
                var bytes = frame
                let index = 8 + Int(random.next() % UInt64(bytes.count - 8))  // keep the table: reach the pointers
                bytes[index] = UInt8(truncatingIfNeeded: random.next())
                decodeWithEveryDecoder(bytes)
            }
        }
    }

    func testSegmentTablesClaimingHugeSizesAreMalformed() {
        let cases: [[UInt8]] = [
            [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0],                          // 2^32 segments (count wraps in naive readers)
            [64, 0, 0, 0] + [UInt8](repeating: 0, count: 8 * 33 - 4),      // 65 segments
            [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 64),  // one segment of 2^32 - 1 words
            [1, 0, 0, 0, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8),
            [0, 0, 0, 0, 0, 0, 0, 0],                                      // empty segment: no root pointer
        ]
        for bytes in cases {
            assertMalformed(bytes)
        }
    }

    func testANullRootIsTheDefaultMessage() throws {
        // Cap'n Proto reads a null pointer as the default value: a valid (if useless) frame.
        let bytes: [UInt8] = [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(try bytes.withUnsafeBytes { try WireCodec.decodeKernelToCoprocessor($0) },
                       .call(CoprocCall(callId: 0, streamId: 0, deadlineNanos: 0, phase: .requestHeaders, endStream: false)))
        XCTAssertEqual(try bytes.withUnsafeBytes { try WireCodec.decodeControl($0) },
                       .hello(Hello(protocolVersion: 0, ringVersion: 0, name: "", buildVersion: "", pid: 0, sessionId: 0)))
    }

    func testAmplifiedListsAreRefused() throws {
        // A call whose header list claims 2^29 - 1 elements of zero words each: an amplification
        // attack the traversal limit must stop (the frame itself is a few words).
        var frame = WireCodec.encodeToBytes(.call(CoprocCall(
            callId: 1, streamId: 1, deadlineNanos: 1, phase: .requestHeaders, endStream: false,
            headers: [WireHeader("a", "b")])))
        // Find the inline-composite tag word of the header list (kind 0 struct, element count in
        // bits 2…31, data 0 words, pointers 2) and make every element zero-sized with a huge count.
        let tag: [UInt8] = [0x04, 0, 0, 0, 0, 0, 2, 0]
        let start = try XCTUnwrap((8..<frame.count - 8).first { Array(frame[$0..<$0 + 8]) == tag })
        frame.replaceSubrange(start..<start + 8, with: [0xFC, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0])
        XCTAssertThrowsError(try frame.withUnsafeBytes { try WireCodec.decodeKernelToCoprocessor($0) }) {
            guard case .malformed? = $0 as? WireError else { return XCTFail("expected malformed, got \($0)") }
        }
    }

    func testFramedLength() throws {
        func length(_ bytes: [UInt8], limit: Int = 1 << 20) throws -> Int? {
            try bytes.withUnsafeBytes { try WireCodec.framedLength($0, limit: limit) }
        }
        XCTAssertNil(try length([]))
        XCTAssertNil(try length([0, 0, 0]))
        XCTAssertNil(try length([0, 0, 0, 0]))                            // one segment: table is 8 bytes
        XCTAssertEqual(try length([0, 0, 0, 0, 2, 0, 0, 0]), 8 + 16)      // only the table needed
        XCTAssertNil(try length([1, 0, 0, 0, 1, 0, 0, 0]))                // two segments: table is 16 bytes
        XCTAssertEqual(try length([1, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]), 16 + 32)
        XCTAssertEqual(try length([2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]), 16 + 24)
        XCTAssertEqual(try length([0, 0, 0, 0, 2, 0, 0, 0], limit: 24), 24)
        XCTAssertThrowsError(try length([0, 0, 0, 0, 2, 0, 0, 0], limit: 23))
        XCTAssertThrowsError(try length([0xFF, 0xFF, 0xFF, 0xFF]))        // absurd count, even before the table
        XCTAssertThrowsError(try length([64, 0, 0, 0]))                   // 65 segments
        XCTAssertNil(try length([63, 0, 0, 0]))                           // 64 segments: allowed, table incomplete
        XCTAssertThrowsError(try length([0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]))      // 32 GiB claimed

        for frame in Self.frames {
            XCTAssertEqual(try length(frame), frame.count)
            XCTAssertEqual(try length(frame + [1, 2, 3]), frame.count)     // ignores what follows
            let unaligned = [UInt8(0)] + frame
            XCTAssertEqual(try unaligned.withUnsafeBytes { try WireCodec.framedLength(UnsafeRawBufferPointer(rebasing: $0[1...]), limit: 1 << 20) }, frame.count)
        }
    }
}

/// A small, seedable generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
