import HerzCore
import NIOCore
import NIOHTTP1

/// The last handler of a downstream HTTP/1.1 connection or of one HTTP/2 stream channel.
///
/// It turns NIO's `HTTPServerRequestPart`s into ``ProxyStream`` events and writes what the stream
/// asks for. It owns no proxy logic: routing, filters and upstreams live in ``ProxyStream``.
/// On an HTTP/1.1 connection it also serialises the responses itself (``HTTP1MessageWriter``: one
/// buffer per flush, no encoder handler); on an HTTP/2 stream it writes response parts to NIO's
/// HTTP/2 codec.
/// HTTP/1.1 ordering: at most one stream is active per connection; requests pipelined behind it
/// wait in a ``PipelinedRequestQueue`` and start, in order, when it finishes. Removable: an
/// `Upgrade: h2c` replaces the HTTP/1.1 handlers before any stream started (``H2CUpgradeHandler``).
final class DownstreamHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler, DownstreamResponder {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let worker: Worker
    private let listenerName: String
    private let scheme: String
    private let isHTTP2Stream: Bool
    private var context: ChannelHandlerContext?
    private var stream: ProxyStream?
    /// The request head waits here until the next part tells whether the request has a body.
    private var pendingHead: HTTPRequestHead?
    private var responseInProgress = false
    /// Drain requested (SIGTERM): close once the stream in flight is done.
    private var draining = false
    private var waitTimer: Scheduled<Void>?
    /// When the connection must have delivered its next complete request head (nil: not waiting).
    private var waitDeadline: NIODeadline?
    private var waitingForFirstRequest = true
    private var clientAddress: String?
    private var needsFlush = false
    /// An error response is out and the connection is closing: what arrives now is discarded.
    private var lingering = false
    /// The active request's `.end` has been read: further parts belong to pipelined requests.
    private var requestEnded = false
    private var pipelined = PipelinedRequestQueue()
    private var pausedForPipelining = false
    /// HTTP/1.1 connections: the response serialiser (nil on HTTP/2 streams).
    private var writer: HTTP1MessageWriter?
    /// The active request is a `HEAD`: its response carries no body.
    private var requestIsHEAD = false
    /// The response in progress is close-delimited (HTTP/1.0 without `content-length`).
    private var closeAfterResponse = false

    /// The verified client certificate's `x-forwarded-client-cert` value (TLS listeners with
    /// `client_auth`); any XFCC header a client sends is removed whatever this holds.
    var forwardedClientCert: String?

    init(worker: Worker, listenerName: String, scheme: String, isHTTP2Stream: Bool) {
        self.worker = worker
        self.listenerName = listenerName
        self.scheme = scheme
        self.isHTTP2Stream = isHTTP2Stream
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !isHTTP2Stream { writer = HTTP1MessageWriter(allocator: context.channel.allocator) }
        let remote = isHTTP2Stream ? context.channel.parent?.remoteAddress : context.channel.remoteAddress
        clientAddress = remote?.ipAddress
        if context.channel.isActive { armWaitTimer(firstRequest: true) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armWaitTimer(firstRequest: true)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        waitTimer?.cancel()
        self.context = nil
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if stream != nil && requestEnded || !pipelined.isEmpty {
            // Pipelined behind the request in flight: hold it, in order, bounded.
            pipelined.append(part)
            if pipelined.isOverLimit && !pausedForPipelining {
                pausedForPipelining = true
                setRequestReading(false)
            }
            return
        }
        receive(part)
    }

    private func receive(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(var head):
            waitDeadline = nil  // the timer, if armed, finds nothing to do when it fires
            requestEnded = false
            ForwardedClientCertHeader.apply(forwardedClientCert, to: &head.headers)
            pendingHead = head
        case .body(let buffer):
            startPendingStream(endStream: false)
            stream?.receiveBody(buffer)
        case .end(let trailers):
            requestEnded = true
            if trailers == nil, pendingHead != nil {
                startPendingStream(endStream: true)
            } else {
                startPendingStream(endStream: false)
                stream?.receiveEnd(trailers)
            }
        }
    }

    /// Starts queued pipelined requests once the connection is idle again.
    private func drainPipelined() {
        while stream == nil || !requestEnded, let part = pipelined.popFirst() {
            receive(part)
        }
        startPendingStream(endStream: false)
        stream?.downstreamReadComplete()  // as after a socket read: flush what went upstream
        if pausedForPipelining && !pipelined.isOverLimit {
            pausedForPipelining = false
            setRequestReading(true)
        }
        flushIfNeeded()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        startPendingStream(endStream: false)
        stream?.downstreamReadComplete()
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    private func startPendingStream(endStream: Bool) {
        guard let head = pendingHead else { return }
        pendingHead = nil
        guard let listener = worker.snapshot.listeners[listenerName] else {
            context?.close(promise: nil)
            return
        }
        let stream = ProxyStream(worker: worker, snapshot: worker.snapshot, listener: listener, responder: self,
                                 clientAddress: clientAddress, scheme: scheme)
        self.stream = stream
        responseInProgress = true
        requestIsHEAD = head.method == .HEAD
        stream.receiveHead(head, endStream: endStream)
        flushIfNeeded()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        stream?.downstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        waitTimer?.cancel()
        stream?.downstreamClosed()
        stream = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if lingering { return }
        if let parserError = error as? HTTPParserError {
            if !responseInProgress {
                let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
                writeErrorAndClose(status, reason: "\(parserError)")
            } else {
                stream?.downstreamClosed()
                context.close(promise: nil)
            }
            return
        }
        stream?.downstreamClosed()
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Drain: finish the request in flight (with `connection: close`), close when idle.
            draining = true
            if stream == nil && pendingHead == nil && pipelined.isEmpty { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: DownstreamResponder

    func writeResponse(_ part: HTTPServerResponsePart) {
        guard let context else { return }
        // Set before writing: the write may synchronously report unwritability, whose handler
        // flushes, and must see this write as pending.
        needsFlush = true
        if writer != nil {
            serialize(part, context: context)  // HTTP/1.1 (draining: `connection: close`)
            needsFlush = true  // a flush run from inside those writes may have written only part of them
        } else {
            context.write(wrapOutboundOut(part), promise: nil)
        }
    }

    func writeResponseEnd(_ trailers: HTTPHeaders?, thenClose: Bool) {
        guard let context else { return }
        guard thenClose || (draining && !isHTTP2Stream) || closeAfterResponse else {
            writeResponse(.end(trailers))
            return
        }
        // Close only after every byte before the end has been written (closing earlier would drop
        // queued writes, e.g. a large body still waiting for the socket).
        needsFlush = false
        let channel = context.channel
        let written: EventLoopFuture<Void>
        if writer != nil {
            writer!.writeEnd(trailers)
            // An empty write still completes only after everything queued before it.
            let bytes = writer!.takePending() ?? context.channel.allocator.buffer(capacity: 0)
            written = context.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)))
        } else {
            written = context.writeAndFlush(wrapOutboundOut(.end(trailers)))
        }
        // On a later turn: the write often completes inline, and closing inline would report the
        // connection gone to the stream before it has recorded its own (complete) end — the
        // request would be counted and logged as a reset.
        written.whenComplete { _ in channel.eventLoop.execute { channel.close(promise: nil) } }
    }

    func flushResponse() { flushIfNeeded() }

    private func flushIfNeeded() {
        if needsFlush {
            needsFlush = false
            guard let context else { return }
            writePending(context)
            context.flush()
        }
    }

    // MARK: HTTP/1.1 serialisation

    private func serialize(_ part: HTTPServerResponsePart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if writer!.writeResponseHead(head, requestIsHEAD: requestIsHEAD, forceClose: draining) {
                closeAfterResponse = true
            }
        case .body(let data):
            let writes = writer!.appendBody(data)
            writes.write(through: context)
        case .end(let trailers):
            writer!.writeEnd(trailers)
        }
    }

    /// Hands the serialised bytes to the channel (not flushed).
    private func writePending(_ context: ChannelHandlerContext) {
        if let bytes = writer?.takePending() { context.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil) }
    }

    func setRequestReading(_ enabled: Bool) {
        guard let context else { return }
        context.channel.setOption(ChannelOptions.autoRead, value: enabled).whenFailure { _ in }
        // HTTP/2 stream channels do not read again by themselves when autoRead is switched back on,
        // and a read delivers their buffered frames synchronously: ask on the next loop turn so the
        // caller (often in the middle of writing) is never re-entered.
        if enabled && isHTTP2Stream {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.execute { loopBound.value.read() }
        }
    }


    func sendContinue() {
        guard let context, writer != nil else { return }
        writer!.writeContinue()
        writePending(context)
        context.flush()
    }

    func streamFinished(_ finished: ProxyStream, reset: Bool, closeConnection: Bool) {
        guard stream === finished else { return }
        stream = nil
        responseInProgress = false
        guard let context else { return }
        if reset {
            // HTTP/1.1: closing the connection is the only way to signal an incomplete response;
            // HTTP/2: closing the stream channel sends RST_STREAM.
            context.flush()
            context.close(promise: nil)
            return
        }
        if closeConnection || draining || closeAfterResponse {
            return  // writeResponseEnd closes once the response is out
        }
        if !pipelined.isEmpty {
            // Not from inside the finishing stream's call stack: start the next one on a fresh turn.
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.execute { loopBound.value.drainPipelined() }
            return
        }
        if !isHTTP2Stream && pendingHead == nil { armWaitTimer(firstRequest: false) }
    }

    // MARK: timeouts

    /// Slowloris and idle protection: a connection must deliver a complete request head within
    /// `request_headers_timeout` (first request) or `idle_timeout` (next request on keep-alive).
    ///
    /// The deadline moves with every request; the timer itself is scheduled only when none is
    /// pending and, when it fires early (the deadline moved), re-arms for the remainder — so a busy
    /// keep-alive connection costs no timer allocation per request.
    private func armWaitTimer(firstRequest: Bool) {
        guard !isHTTP2Stream, let limits = worker.snapshot.listeners[listenerName]?.config.limits else { return }
        let timeout = firstRequest ? limits.requestHeadersTimeout : limits.idleTimeout
        waitDeadline = .now() + timeout
        waitingForFirstRequest = firstRequest
        scheduleWaitTimer()
    }

    private func scheduleWaitTimer() {
        guard waitTimer == nil, let context, let deadline = waitDeadline else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        waitTimer = context.eventLoop.scheduleTask(deadline: deadline) { loopBound.value.waitTimerFired() }
    }

    private func waitTimerFired() {
        waitTimer = nil
        guard let deadline = waitDeadline, stream == nil, pendingHead == nil else { return }
        if NIODeadline.now() < deadline {
            scheduleWaitTimer()
        } else if waitingForFirstRequest {
            writeErrorAndClose(.requestTimeout, reason: "request header timeout")
        } else {
            context?.close(promise: nil)
        }
    }

    /// Answers a request that never reached routing (malformed, too large, too slow) and closes.
    ///
    /// Written as raw bytes below NIO's HTTP handlers (the pipelining handler has no request to
    /// pair it with), then a lingering close: shut our side, discard what the client still sends
    /// for up to a second, then close — closing with unread input would send a TCP reset that can
    /// destroy the response before the client reads it.
    private func writeErrorAndClose(_ status: HTTPResponseStatus, reason: String) {
        guard let context, !isHTTP2Stream else {
            self.context?.close(promise: nil)
            return
        }
        lingering = true
        let bytes = RawErrorResponse.bytes(status: status, reason: reason)
        worker.metrics.protocolError(listener: listenerName, status: Int(status.code))
        let pipeline = context.pipeline
        let writer = (try? pipeline.syncOperations.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)) ?? context
        let channel = context.channel
        writer.writeAndFlush(NIOAny(bytes)).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        }
    }
}
