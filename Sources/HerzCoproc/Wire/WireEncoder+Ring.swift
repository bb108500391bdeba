import CHerzCapnp
import NIOCore

// Ring frames (ring.capnp) → the shim's flat views.
extension WireEncoder {
    func write(_ frame: KernelToCoprocessor) throws {
        var view = herz_k2c()
        switch frame {
        case .call(let call):
            view.which = UInt16(HERZ_K2C_CALL)
            view.callId = call.callId
            view.streamId = call.streamId
            view.deadlineNanos = call.deadlineNanos
            view.phase = call.phase.rawValue
            view.endStream = call.endStream
            view.headerCount = wireCount(call.headers.count)
            try withWireBytes(call.body, call.route, call.filterConfig) { body, route, filterConfig in
                view.body = body
                view.route = route
                view.filterConfig = filterConfig
                try self.run { herz_enc_k2c(self.raw, &view, $0) }
            }
            try self.write(call.headers, to: HERZ_LIST_CALL_HEADERS)
        case .streamEnd(let streamId, let reset):
            view.which = UInt16(HERZ_K2C_STREAM_END)
            view.streamId = streamId
            view.reset = reset
            try self.run { herz_enc_k2c(self.raw, &view, $0) }
        }
    }

    func write(_ answer: CoprocAnswer) throws {
        var view = herz_answer()
        view.callId = answer.callId
        var body = ByteBuffer()
        var text = ""
        var mutation = HeaderMutation()
        var replyHeaders: [WireHeader] = []
        switch answer.result {
        case .headers(let status, let headersMutation):
            view.which = UInt16(HERZ_ANSWER_HEADERS)
            view.status = status.rawValue
            mutation = headersMutation
        case .data(let status, let replacement):
            view.which = UInt16(HERZ_ANSWER_DATA)
            view.status = status.rawValue
            view.replaceBody = replacement != nil
            body = replacement ?? ByteBuffer()
        case .trailers(let status, let trailersMutation):
            view.which = UInt16(HERZ_ANSWER_TRAILERS)
            view.status = status.rawValue
            mutation = trailersMutation
        case .localReply(let reply):
            view.which = UInt16(HERZ_ANSWER_LOCAL_REPLY)
            view.httpStatus = reply.status
            view.headerCount = wireCount(reply.headers.count)
            body = reply.body
            text = reply.reason
            replyHeaders = reply.headers
        case .failure(let kind, let message):
            view.which = UInt16(HERZ_ANSWER_FAILURE)
            view.status = kind.rawValue
            text = message
        }
        view.setCount = wireCount(mutation.set.count)
        view.appendCount = wireCount(mutation.append.count)
        view.removeCount = wireCount(mutation.remove.count)
        try withWireBytes(body, text, "") { body, text, _ in
            view.body = body
            view.text = text
            try self.run { herz_enc_answer(self.raw, &view, $0) }
        }
        try self.write(mutation.set, to: HERZ_LIST_MUTATION_SET)
        try self.write(mutation.append, to: HERZ_LIST_MUTATION_APPEND)
        try self.write(mutation.remove, to: HERZ_LIST_MUTATION_REMOVE)
        try self.write(replyHeaders, to: HERZ_LIST_REPLY_HEADERS)
    }
}
