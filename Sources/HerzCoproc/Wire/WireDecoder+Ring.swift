import CHerzCapnp

// Ring frames (ring.capnp) ← the shim's flat views.
extension WireDecoder {
    func readKernelToCoprocessor() throws -> KernelToCoprocessor {
        var view = herz_k2c()
        try self.run { herz_dec_k2c(self.raw, &view, $0) }
        switch Int(view.which) {
        case HERZ_K2C_CALL:
            return .call(CoprocCall(
                callId: view.callId, streamId: view.streamId, deadlineNanos: view.deadlineNanos,
                phase: try wireEnum(view.phase), endStream: view.endStream,
                headers: try self.headers(HERZ_LIST_CALL_HEADERS, count: view.headerCount),
                body: view.body.byteBuffer, route: view.route.string, filterConfig: view.filterConfig.string))
        case HERZ_K2C_STREAM_END:
            return .streamEnd(streamId: view.streamId, reset: view.reset)
        default:
            throw unknownVariant("KernelToCoprocessor", view.which)
        }
    }

    func readAnswer() throws -> CoprocAnswer {
        var view = herz_answer()
        try self.run { herz_dec_answer(self.raw, &view, $0) }
        let result: AnswerResult
        switch Int(view.which) {
        case HERZ_ANSWER_HEADERS:
            result = .headers(try wireEnum(view.status), try self.mutation(view))
        case HERZ_ANSWER_DATA:
            result = .data(try wireEnum(view.status), body: view.replaceBody ? view.body.byteBuffer : nil)
        case HERZ_ANSWER_TRAILERS:
            result = .trailers(try wireEnum(view.status), try self.mutation(view))
        case HERZ_ANSWER_LOCAL_REPLY:
            result = .localReply(CoprocLocalReply(
                status: view.httpStatus, headers: try self.headers(HERZ_LIST_REPLY_HEADERS, count: view.headerCount),
                body: view.body.byteBuffer, reason: view.text.string))
        case HERZ_ANSWER_FAILURE:
            result = .failure(try wireEnum(view.status), message: view.text.string)
        default:
            throw unknownVariant("Answer", view.which)
        }
        return CoprocAnswer(callId: view.callId, result: result)
    }

    private func mutation(_ view: herz_answer) throws -> HeaderMutation {
        HeaderMutation(set: try self.headers(HERZ_LIST_MUTATION_SET, count: view.setCount),
                       append: try self.headers(HERZ_LIST_MUTATION_APPEND, count: view.appendCount),
                       remove: try self.strings(HERZ_LIST_MUTATION_REMOVE, count: view.removeCount))
    }
}
