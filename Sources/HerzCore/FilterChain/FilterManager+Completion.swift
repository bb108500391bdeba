import NIOCore
import NIOHTTP1

// What leaves the chain: actions to the sink, local replies, completion.
extension FilterManager {
    @inline(__always)
    func emit(_ action: FilterManagerAction) {
        self.sink?.filterManager(self, perform: action)
    }

    /// A request frame passed every filter.
    func emitRequest(_ frame: StreamFrame<HTTPRequestHead>) {
        guard !self.isComplete, !self.decoder.endReachedTerminal else { return }
        switch frame {
        case .headers(let head, let endStream):
            self.decoder.headReachedTerminal = true
            self.decoder.endReachedTerminal = endStream
            self.emit(.forwardRequestHead(head, endStream: endStream))
        case .data(let data, let endStream):
            guard self.decoder.headReachedTerminal else { return }
            self.decoder.endReachedTerminal = endStream
            self.emit(.forwardRequestData(data, endStream: endStream))
        case .trailers(let trailers):
            guard self.decoder.headReachedTerminal else { return }
            self.decoder.endReachedTerminal = true
            self.emit(.forwardRequestTrailers(trailers))
        }
    }

    /// A response frame passed every encoder filter (or is a direct local reply). Its end completes
    /// the stream.
    func emitResponse(_ frame: StreamFrame<HTTPResponseHead>) {
        guard !self.isComplete, !self.encoder.endReachedTerminal else { return }
        let ends: Bool
        switch frame {
        case .headers(let head, let endStream):
            self.responseHeadersSent = true
            self.encoder.headReachedTerminal = true
            ends = endStream
            self.emit(.sendResponseHead(head, endStream: endStream))
        case .data(let data, let endStream):
            guard self.encoder.headReachedTerminal else { return }
            ends = endStream
            self.emit(.sendResponseData(data, endStream: endStream))
        case .trailers(let trailers):
            guard self.encoder.headReachedTerminal else { return }
            ends = true
            self.emit(.sendResponseTrailers(trailers))
        }
        if ends {
            self.encoder.endReachedTerminal = true
            self.finish()
        }
    }

    /// Ends the stream: every filter's `onStreamComplete()` once, then `.streamComplete` once.
    func finish() {
        guard !self.isComplete else { return }
        self.isComplete = true
        _ = self.decoder.abort()
        _ = self.encoder.abort()
        self.deferred.removeAll()
        for filter in self.filters { filter.onStreamComplete() }
        self.emit(.streamComplete)
    }

    /// Ends the stream without a (complete) response.
    func reset(_ reason: StreamResetReason) {
        guard !self.isComplete else { return }
        self.emit(.resetStream(reason))
        self.finish()
    }

    /// A local reply from the filter at `index` (`filters.count`: the terminal).
    ///
    /// The decode chain stops for good and an upstream request already forwarded is cancelled. If the
    /// response headers already went downstream the stream is reset. Otherwise any response under way
    /// is dropped and the reply is sent directly when `responsePhase` (requested from an encode
    /// callback, or asynchronously after the terminal answered), or else through the encode path of
    /// the filters before `index` only.
    func performLocalReply(from index: Int, status: HTTPResponseStatus, body: String, headers: HTTPHeaders, responsePhase: Bool) {
        guard !self.isComplete else { return }
        if self.decoder.abort() { self.emit(.resumeReading(.downstream)) }
        let fromTerminal = index >= self.filters.count
        if !fromTerminal, self.decoder.headReachedTerminal, !self.upstreamCancelled,
           !(responsePhase && self.terminalResponseEnded) {
            self.upstreamCancelled = true
            self.emit(.cancelUpstream)
        }
        guard !self.responseHeadersSent else {
            self.reset(.localReplyAfterResponseStarted)
            return
        }
        self.terminalSuperseded = true
        if self.encoder.reset() { self.emit(.resumeReading(.upstream)) }
        self.encoder.started = true

        let (head, bodyBuffer) = Self.makeLocalReply(status: status, body: body, headers: headers,
                                                     version: self.requestVersion, isHEAD: self.requestIsHEAD)
        if responsePhase {
            self.emitResponse(.headers(head, endStream: bodyBuffer == nil))
            if let bodyBuffer { self.emitResponse(.data(bodyBuffer, endStream: true)) }
            return
        }
        let start = self.filters.count - index  // encode position of filter index - 1
        let epoch = self.encoder.epoch
        self.deliver(.headers(head, endStream: bodyBuffer == nil), to: start, in: self.encoder)
        if let bodyBuffer, !self.isComplete, self.encoder.epoch == epoch {
            self.deliver(.data(bodyBuffer, endStream: true), to: start, in: self.encoder)
        }
    }

    /// The head and body (nil: none, e.g. answering `HEAD`) of a local reply: `text/plain` with its
    /// length unless `headers` say otherwise. Shared with ``PassThroughFilterChain``.
    static func makeLocalReply(status: HTTPResponseStatus, body: String, headers: HTTPHeaders, version: HTTPVersion,
                               isHEAD: Bool) -> (HTTPResponseHead, ByteBuffer?) {
        var fields = HTTPHeaders()
        fields.add(name: "content-type", value: "text/plain")
        fields.add(name: "content-length", value: String(body.utf8.count))
        for (name, value) in headers {
            let lowered = name.lowercased()
            if lowered == "content-type" || lowered == "content-length" {
                fields.replaceOrAdd(name: name, value: value)
            } else {
                fields.add(name: name, value: value)
            }
        }
        let head = HTTPResponseHead(version: version, status: status, headers: fields)
        let bodyBuffer = body.isEmpty || isHEAD ? nil : ByteBuffer(string: body)
        return (head, bodyBuffer)
    }

    /// Request body buffered for the filter at `filterIndex` overflowed: local 413 from that filter.
    func requestBufferOverflow(filterIndex: Int) {
        self.performLocalReply(from: filterIndex, status: .payloadTooLarge, body: "request body too large",
                               headers: HTTPHeaders(), responsePhase: false)
    }

    /// Response body buffered by an encoder filter overflowed: 500 if nothing went downstream yet,
    /// else a reset.
    func responseBufferOverflow() {
        if self.responseHeadersSent {
            self.reset(.responseBufferOverflow)
        } else {
            self.performLocalReply(from: 0, status: .internalServerError, body: "response body too large",
                                   headers: HTTPHeaders(), responsePhase: true)
        }
    }
}
