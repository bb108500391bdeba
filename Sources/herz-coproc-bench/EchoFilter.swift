import HerzCoprocSDK

/// The filter every variant runs: answers a body call with `continue` and the same bytes as the
/// replacement body (an echo), so the answer frame is as large as the call frame. Variants (a) and
/// (b) call it through ``answer(frame:)``; the ring variant's coprocessor hands it to the SDK's
/// `CoprocessorServer`, which calls `answer(_:)` the same way.
struct EchoFilter: CoprocessorFilter {
    func onRequestBody(_ call: CoprocCall) -> AnswerResult {
        .data(.continue, body: call.body)
    }

    var capabilities: [String] { ["phase:request_body"] }
}

extension EchoFilter {
    /// The coprocessor side of one exchange outside the SDK: decodes one `KernelToCoprocessor`
    /// frame and answers it; nil for a stream end (which has no answer).
    func answer(frame: UnsafeRawBufferPointer) throws -> CoprocAnswer? {
        switch try WireCodec.decodeKernelToCoprocessor(frame) {
        case .call(let call):
            return CoprocAnswer(callId: call.callId, result: answer(call))
        case .streamEnd(let streamId, let reset):
            onStreamEnd(streamId: streamId, reset: reset)
            return nil
        }
    }
}
