import CHerzQUIC
import HerzCore
import NIOCore
import NIOHTTP1

/// One HTTP/3 request stream: the request as it arrives (head, body, trailers) towards its
/// ``HTTP3StreamHandler``, and the response the handler writes back.
///
/// Flow control follows the proxy: request body bytes are credited back to the client
/// (MAX_STREAM_DATA / MAX_DATA) only while the handler reads; a paused stream keeps its credit
/// until it resumes, so a client can have at most one stream window in flight beyond what the
/// filter chain accepted. Response bytes are held until acknowledged, bounded by the
/// ``HTTP3SendQueue`` watermarks that the handler sees as writability.
///
/// Lives on its connection's event loop. Once the stream or its connection is gone, every
/// method is a no-op.
public final class HTTP3ServerStream {
    public let id: Int64
    private weak var http: HTTP3Connection?
    private var handler: HTTP3StreamHandler?
    private var request: HTTP3RequestHeadBuilder
    private var trailers: HTTPHeaders?
    private var inTrailers = false
    private var headDelivered = false
    private var requestFinished = false
    private var rejected = false
    private var send: HTTP3SendQueue
    private var responseTrailers: HTTPHeaders?
    private var responseSubmitted = false
    private var responseFinished = false
    /// nghttp3 asked for data we did not have yet: it must be resumed when data arrives.
    private var readBlocked = false
    private var readingEnabled = true
    private var pendingCredit = 0
    private var gone = false

    /// The client's IP address (for logs, `x-forwarded-for`, filters).
    public let clientAddress: String?

    init(id: Int64, http: HTTP3Connection) {
        self.id = id
        self.http = http
        let parameters = http.quic.parameters
        request = HTTP3RequestHeadBuilder(maxBytes: parameters.maxHeaderBytes)
        send = HTTP3SendQueue(highWatermark: parameters.sendHighWatermark, lowWatermark: parameters.sendHighWatermark / 2)
        clientAddress = http.quic.peer.ipAddress
    }

    // MARK: request side (from nghttp3 callbacks)

    func receiveField(name: String, value: String) {
        guard !rejected else { return }
        if inTrailers {
            if !name.hasPrefix(":") { trailers?.add(name: name, value: value) }
        } else {
            request.add(name: name, value: value)
        }
    }

    func beginTrailers() {
        inTrailers = true
        trailers = HTTPHeaders()
    }

    func headersComplete(fin: Bool) {
        guard !rejected, !headDelivered, let http else { return }
        if inTrailers { return }
        switch request.build() {
        case .failure:
            // Well-formed HTTP/3 that Herz cannot proxy (CONNECT, over the header limit): reset.
            rejected = true
            abort(code: UInt64(NGHTTP3_H3_MESSAGE_ERROR))
        case .success(var head):
            switch QUICEarlyDataDecision.decide(method: head.method, inEarlyData: http.quic.inEarlyData) {
            case .forward: break
            case .forwardMarked: head.headers.replaceOrAdd(name: "early-data", value: "1")
            case .tooEarly:
                rejected = true
                http.quic.endpoint.observer?.quicEvent(.earlyData(.tooEarly), listener: http.quic.parameters.listenerName)
                writeHead(HTTPResponseHead(version: HTTPVersion(major: 3, minor: 0), status: .init(statusCode: 425),
                                           headers: ["content-length": "0", "x-herz-early-data": "refused"]))
                writeEnd(nil)
                return
            }
            headDelivered = true
            requestFinished = fin
            let handler = http.quic.endpoint.streamHandlerFactory.makeHandler(for: self)
            self.handler = handler
            handler.receiveHead(head, endStream: fin)
        }
    }

    func receiveData(_ data: UnsafePointer<UInt8>?, length: Int) {
        guard length > 0, let data else { return }
        guard let handler, !gone else {
            http?.extendCredit(id, length)  // nobody wants it: keep the window open so the stream can end
            return
        }
        var buffer = http!.quic.endpoint.allocator.buffer(capacity: length)
        buffer.writeBytes(UnsafeRawBufferPointer(start: data, count: length))
        handler.receiveBody(buffer)
        credit(length)
    }

    func requestEnded() {
        guard headDelivered, !requestFinished else { return }
        requestFinished = true
        handler?.receiveEnd(trailers)
    }

    private func credit(_ bytes: Int) {
        if readingEnabled && !gone {
            http?.extendCredit(id, bytes)
        } else {
            pendingCredit += bytes
        }
    }

    // MARK: response side (from the handler)

    public func writeHead(_ head: HTTPResponseHead) {
        guard let http, !gone, !responseSubmitted else { return }
        let fields = HTTP3ResponseFields.fields(status: head.status, headers: head.headers)
        if head.status.code < 200 {
            let rv = HTTP3FieldList.with(fields) { nghttp3_conn_submit_info(http.conn, id, $0, $1) }
            if rv != 0 { abort(code: UInt64(NGHTTP3_H3_INTERNAL_ERROR)) }
            return
        }
        responseSubmitted = true
        var reader = HTTP3ServerStream.dataReader
        let rv = HTTP3FieldList.with(fields) { nghttp3_conn_submit_response(http.conn, id, $0, $1, &reader) }
        if rv != 0 { abort(code: UInt64(NGHTTP3_H3_INTERNAL_ERROR)); return }
        http.quic.scheduleWrite()
    }

    public func writeBody(_ data: ByteBuffer) {
        guard !gone, responseSubmitted, !send.ended else { return }
        if let writable = send.append(data) { handler?.writabilityChanged(isWritable: writable) }
        resumeIfBlocked()
    }

    public func writeEnd(_ trailers: HTTPHeaders?) {
        guard !gone, responseSubmitted, !send.ended else { return }
        responseTrailers = trailers.flatMap { $0.isEmpty ? nil : $0 }
        send.end()
        resumeIfBlocked()
    }

    /// Sends pending response data now (on the next loop turn, coalesced per connection).
    public func flush() {
        guard !gone else { return }
        http?.quic.scheduleWrite()
    }

    /// Pauses (`false`) or resumes crediting request body bytes back to the client.
    public func setReading(_ enabled: Bool) {
        readingEnabled = enabled
        guard enabled, pendingCredit > 0, !gone else { return }
        let bytes = pendingCredit
        pendingCredit = 0
        http?.extendCredit(id, bytes)
        http?.quic.scheduleWrite()
    }

    /// The response is complete and the rest of the request body is not wanted (STOP_SENDING with
    /// H3_NO_ERROR, RFC 9114 §4.1.2).
    public func stopReadingRequest() {
        guard !gone, !requestFinished, let http else { return }
        ngtcp2_conn_shutdown_stream_read(http.quic.conn, id, UInt64(NGHTTP3_H3_NO_ERROR))
        http.quic.scheduleWrite()
    }

    /// Abandons the stream in both directions (the response is incomplete): RESET_STREAM and
    /// STOP_SENDING with `code` (default H3_INTERNAL_ERROR). The handler is not called again.
    public func reset(code: UInt64 = UInt64(NGHTTP3_H3_INTERNAL_ERROR)) {
        handler = nil
        abort(code: code)
    }

    /// The handler is done with the stream (response fully queued or stream reset).
    public func finish() {
        handler = nil
    }

    // MARK: teardown

    func abort(code: UInt64) {
        guard !gone, let http else { return }
        gone = true
        send.discard()
        ngtcp2_conn_shutdown_stream(http.quic.conn, id, code)
        http.quic.scheduleWrite()
        notifyAborted()
    }

    /// nghttp3 closed the stream (both directions done, or reset).
    func closedByTransport() {
        gone = true
        send.discard()
        http?.streamClosed(self)
        notifyAborted()
    }

    func connectionGone() {
        gone = true
        send.discard()
        notifyAborted()
    }

    private func notifyAborted() {
        guard let handler else { return }
        self.handler = nil
        handler.streamAborted()
    }

    // MARK: nghttp3 data reader

    func acknowledged(_ bytes: Int) {
        if let writable = send.acknowledge(bytes), !gone { handler?.writabilityChanged(isWritable: writable) }
    }

    private func resumeIfBlocked() {
        guard let http else { return }
        if readBlocked {
            readBlocked = false
            let rv = nghttp3_conn_resume_stream(http.conn, id)
            if rv != 0 { abort(code: UInt64(NGHTTP3_H3_INTERNAL_ERROR)); return }
        }
        http.quic.scheduleWrite()
    }

    static let dataReader = nghttp3_data_reader(read_data: { _, _, vectors, capacity, flags, _, streamData in
        guard let streamData, let vectors, let flags else { return nghttp3_ssize(NGHTTP3_ERR_CALLBACK_FAILURE) }
        let stream = Unmanaged<HTTP3ServerStream>.fromOpaque(streamData).takeUnretainedValue()
        return stream.readData(vectors, capacity: capacity, flags: flags)
    })

    /// Hands unsent body chunks to nghttp3 by reference. Each chunk stays in the send queue (which
    /// retains its storage) until acknowledged, so the pointers stay valid as nghttp3 requires; a
    /// ByteBuffer's storage never moves while it is not written to.
    private func readData(_ vectors: UnsafeMutablePointer<nghttp3_vec>, capacity: Int, flags: UnsafeMutablePointer<UInt32>) -> nghttp3_ssize {
        let chunks = send.takeUnsent(max: capacity)
        for (index, chunk) in chunks.enumerated() {
            chunk.withUnsafeReadableBytes { bytes in
                vectors[index] = nghttp3_vec(base: UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)),
                                             len: bytes.count)
            }
        }
        if send.ended && !send.hasUnsent && !responseFinished {
            responseFinished = true
            flags.pointee |= UInt32(NGHTTP3_DATA_FLAG_EOF)
            if let trailers = responseTrailers, let http {
                flags.pointee |= UInt32(NGHTTP3_DATA_FLAG_NO_END_STREAM)
                let fields = HTTP3ResponseFields.fields(status: nil, headers: trailers)
                let rv = HTTP3FieldList.with(fields) { nghttp3_conn_submit_trailers(http.conn, id, $0, $1) }
                if rv != 0 { return nghttp3_ssize(NGHTTP3_ERR_CALLBACK_FAILURE) }
            }
            return nghttp3_ssize(chunks.count)
        }
        if chunks.isEmpty {
            readBlocked = true
            return nghttp3_ssize(NGHTTP3_ERR_WOULDBLOCK)
        }
        return nghttp3_ssize(chunks.count)
    }
}
