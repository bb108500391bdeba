import HerzCoproc

/// Variant (a): the whole exchange on one thread with no transport — the call frame is encoded
/// with `WireCodec`, decoded, handed to the echo filter, and the answer encoded and decoded. The
/// floor any transport adds to.
final class InProcessVariant: RoundTripVariant {
    private let filter = EchoFilter()
    private let callFrame: UnsafeMutableRawBufferPointer
    private let answerFrame: UnsafeMutableRawBufferPointer

    /// `maxFrameBytes` bounds the encoded frames (payload plus a few hundred bytes).
    init(maxFrameBytes: Int) {
        callFrame = .allocate(byteCount: maxFrameBytes, alignment: 8)
        answerFrame = .allocate(byteCount: maxFrameBytes, alignment: 8)
    }

    deinit {
        callFrame.deallocate()
        answerFrame.deallocate()
    }

    func latency(_ call: BenchCall, durationNanos: UInt64, pacer: Pacer?) throws -> Measurement {
        var call = call
        return try measureBlocking(durationNanos: durationNanos, pacer: pacer) { try roundTrip(&call) }
    }

    /// Nothing is in flight without a transport: the same loop, as fast as it goes.
    func throughput(_ call: BenchCall, durationNanos: UInt64, window: Int) throws -> Measurement {
        try latency(call, durationNanos: durationNanos, pacer: nil)
    }

    func stop() {}

    private func roundTrip(_ call: inout BenchCall) throws {
        let sent = call.next()
        let callBytes = try WireCodec.encode(.call(sent), into: callFrame)
        guard let answer = try filter.answer(frame: UnsafeRawBufferPointer(rebasing: callFrame[..<callBytes])) else {
            throw BenchError("the filter did not answer a call")
        }
        let answerBytes = try WireCodec.encode(answer, into: answerFrame)
        let decoded = try WireCodec.decodeAnswer(UnsafeRawBufferPointer(rebasing: answerFrame[..<answerBytes]))
        guard decoded.callId == sent.callId else { throw BenchError("answer for call \(decoded.callId), expected \(sent.callId)") }
        try call.check(decoded.result)
    }
}
