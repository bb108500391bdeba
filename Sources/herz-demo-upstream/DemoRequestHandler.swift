import HerzCore
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Answers the demo upstream's endpoints (see `DemoRoute`) on one HTTP/1.1 connection or on one
/// HTTP/2 stream (behind `HTTP2FramePayloadToHTTP1ServerCodec`).
///
/// Guarantees:
/// - One response per request, in request order. HTTP/1.1 pipelining is serialised by NIO's
///   `HTTPServerPipelineHandler` in front of this handler, which delivers the next request only
///   once this one's `.end` has been written.
/// - Request bodies are never buffered: they are echoed, counted or dropped as they arrive.
/// - `/bytes/N` writes a 64 KiB chunk only while the channel is writable and `/echo` stops
///   reading while the channel is not writable, so memory stays constant for any size.
/// - Writes made while handling a read are flushed once per read batch (`channelReadComplete`);
///   writes made from timers, futures or writability changes are flushed at once.
///
/// Owned by its channel's event loop; all state is touched only there.
final class DemoRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// The route answers at request end; request body parts are dropped.
        case awaitingEnd(DemoRoute, HTTPRequestHead)
        /// `/echo`: response head sent, request body parts are written back as they arrive.
        case echoing
        /// Request body parts are counted; the route answers at request end.
        case counting(DemoRoute, HTTPRequestHead, bytes: UInt64)
        /// `/bytes`: request complete, chunks are written whenever the channel is writable.
        case streamingBytes(remaining: UInt64)
        /// Request complete, the answer waits on a timer or on a future from other loops.
        case answering
        /// The connection or stream is being torn down on purpose; all events are ignored.
        case closing
    }

    private let responses: DemoResponses
    private let shared: UpstreamState
    /// This loop's shard of the statistics, set in `handlerAdded`.
    private var counters: UpstreamCounters?

    private var state = State.idle
    /// Protocol version of the current request; the response uses the same.
    private var version = HTTPVersion.http1_1
    /// Whether the connection stays open after the current response (always true for HTTP/2).
    private var keepAlive = true
    /// Whether `100 Continue` was sent for the current request.
    private var sentContinue = false
    /// Writes are pending that the next `channelReadComplete` must flush.
    private var needsFlush = false
    /// A `read` was held back because `/echo` could not write.
    private var readPending = false
    private var delayTask: Scheduled<Void>?

    init(responses: DemoResponses, shared: UpstreamState) {
        self.responses = responses
        self.shared = shared
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        counters = shared.counters(for: context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): requestHead(context: context, head)
        case .body(let buffer): requestBody(context: context, buffer)
        case .end: requestEnd(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            if case .streamingBytes = state { pumpBytes(context: context) }
            if readPending {
                readPending = false
                context.read()
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        delayTask?.cancel()
        delayTask = nil
        state = .closing
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if case .echoing = state, !context.channel.isWritable {
            readPending = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        state = .closing
        context.close(promise: nil)
    }

    // MARK: Request parts

    private func requestHead(context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        guard case .idle = state else { return }
        let route = DemoRoute.resolve(method: head.method.rawValue, uri: head.uri)
        version = head.version
        keepAlive = head.version.major >= 2 || head.isKeepAlive
        sentContinue = false
        if !route.isAdmin, let counters {
            counters.requests &+= 1
            if route == .healthz { counters.healthzRequests &+= 1 }
        }

        switch route {
        case .close:
            closeWithoutAnswer(context: context)
            return
        case .reset:
            resetMidResponse(context: context)
            return
        default:
            break
        }

        if head.headers.contains(name: "expect"),
            head.headers["expect"].contains(where: { $0.lowercased() == "100-continue" })
        {
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .continue))), promise: nil)
            sentContinue = true
            needsFlush = true
        }

        switch route {
        case .echo:
            var headers = responses.headers(
                contentType: head.headers.first(name: "content-type") ?? "application/octet-stream",
                contentLength: nil
            )
            headers.add(name: "x-echo-method", value: head.method.rawValue)
            headers.add(name: "x-echo-path", value: head.uri)
            headers.add(name: "x-echo-host", value: head.headers.first(name: "host") ?? "")
            writeHead(context: context, status: .ok, headers: headers)
            state = .echoing
        case .sink, .echoSummary, .expect:
            state = .counting(route, head, bytes: 0)
        default:
            state = .awaitingEnd(route, head)
        }
    }

    private func requestBody(context: ChannelHandlerContext, _ buffer: ByteBuffer) {
        switch state {
        case .echoing:
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            needsFlush = true
        case .counting(let route, let head, let bytes):
            state = .counting(route, head, bytes: bytes + UInt64(buffer.readableBytes))
        default:
            break
        }
    }

    private func requestEnd(context: ChannelHandlerContext) {
        switch state {
        case .awaitingEnd(let route, let head):
            answer(context: context, route: route, head: head)
        case .counting(let route, let head, let bytes):
            answerCounted(context: context, route: route, head: head, bytes: bytes)
        case .echoing:
            finish(context: context)
        case .idle, .streamingBytes, .answering, .closing:
            break
        }
    }

    // MARK: Answers

    private func answer(context: ChannelHandlerContext, route: DemoRoute, head: HTTPRequestHead) {
        switch route {
        case .small:
            respond(context: context, status: .ok, headers: responses.smallHeaders, body: responses.smallBody)
        case .hello:
            if let fault = counters?.fault, fault.isActive {
                answerWithFault(context: context, fault)
            } else {
                respond(context: context, status: .ok, headers: responses.helloHeaders, body: responses.helloBody)
            }
        case .bytes(let count):
            var headers = responses.headers(contentType: "application/octet-stream", contentLength: nil)
            headers.add(name: "content-length", value: String(count))
            writeHead(context: context, status: .ok, headers: headers)
            state = .streamingBytes(remaining: count)
            pumpBytes(context: context)
        case .delay(let ms):
            answerWithFault(context: context, DemoFault(delayMilliseconds: ms))
        case .status(let code):
            let status = HTTPResponseStatus(statusCode: code)
            if code == 204 || code == 304 {
                respond(context: context, status: status, headers: responses.baseHeaders, body: nil)
            } else {
                respondText(context: context, status: status, "status \(code)\n")
            }
        case .trailers:
            var headers = responses.headers(contentType: "text/plain", contentLength: nil)
            headers.add(name: "trailer", value: "grpc-status, x-trailer")
            writeHead(context: context, status: .ok, headers: headers)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
            finish(context: context, trailers: HTTPHeaders([("grpc-status", "0"), ("x-trailer", "yes")]))
        case .healthz:
            if counters?.healthy ?? true {
                respondText(context: context, status: .ok, "ok\n")
            } else {
                respondText(context: context, status: .serviceUnavailable, "unhealthy\n")
            }
        case .adminStats:
            answerLater(context: context, shared.totals(on: context.eventLoop)) { totals in
                (.ok, "{\"requests\": \(totals.requests), \"healthz\": \(totals.healthzRequests)}\n", "application/json")
            }
        case .adminResetStats:
            answerLater(context: context, shared.resetStatistics(on: context.eventLoop)) { _ in
                (.ok, "{\"requests\": 0, \"healthz\": 0}\n", "application/json")
            }
        case .adminSetFault(let fault):
            answerLater(context: context, shared.setFault(fault, on: context.eventLoop)) { _ in
                (.ok, fault.isActive ? "fault: delay \(fault.delayMilliseconds)ms, status \(fault.status.map(String.init) ?? "200")\n" : "no fault\n", "text/plain")
            }
        case .adminSetHealthy(let healthy):
            answerLater(context: context, shared.setHealthy(healthy, on: context.eventLoop)) { _ in
                (.ok, healthy ? "healthy\n" : "unhealthy\n", "text/plain")
            }
        case .methodNotAllowed(let allow):
            var headers = responses.headers(contentType: "text/plain", contentLength: 19)
            headers.add(name: "allow", value: allow)
            respond(context: context, status: .methodNotAllowed, headers: headers, body: ByteBuffer(string: "method not allowed\n"))
        case .badRequest(let reason):
            respondText(context: context, status: .badRequest, reason + "\n")
        case .echo, .echoSummary, .sink, .expect, .close, .reset:
            // Handled at request head; cannot reach here.
            respondText(context: context, status: .internalServerError, "unexpected route\n")
        }
    }

    private func answerCounted(context: ChannelHandlerContext, route: DemoRoute, head: HTTPRequestHead, bytes: UInt64) {
        switch route {
        case .echoSummary:
            let headers = head.headers.map { "[\(JSONText.quoted($0.name)),\(JSONText.quoted($0.value))]" }
            let json = "{\"method\":\(JSONText.quoted(head.method.rawValue)),\"uri\":\(JSONText.quoted(head.uri)),"
                + "\"headers\":[\(headers.joined(separator: ","))],\"body_bytes\":\(bytes)}\n"
            respondText(context: context, status: .ok, json, contentType: "application/json")
        case .expect:
            respondText(
                context: context, status: .ok,
                "{\"bytes\": \(bytes), \"continue_sent\": \(sentContinue)}\n", contentType: "application/json"
            )
        default:
            respondText(context: context, status: .ok, "{\"bytes\": \(bytes)}\n", contentType: "application/json")
        }
    }

    /// Answers once `future` (which runs on other loops) completes.
    private func answerLater<T>(
        context: ChannelHandlerContext,
        _ future: EventLoopFuture<T>,
        _ render: @escaping (T) -> (HTTPResponseStatus, String, String)
    ) {
        state = .answering
        future.assumeIsolated().whenComplete { result in
            guard case .answering = self.state else { return }
            switch result {
            case .success(let value):
                let (status, text, type) = render(value)
                self.respondText(context: context, status: status, text, contentType: type)
            case .failure(let error):
                self.respondText(context: context, status: .internalServerError, "\(error)\n")
            }
            self.flushIfNeeded(context: context)
        }
    }

    // MARK: Writing

    /// Writes `/bytes` chunks while the channel is writable; finishes when none remain.
    private func pumpBytes(context: ChannelHandlerContext) {
        guard case .streamingBytes(var remaining) = state else { return }
        let chunkSize = UInt64(DemoResponses.chunkSize)
        while remaining > 0 && context.channel.isWritable {
            let chunk: ByteBuffer
            if remaining >= chunkSize {
                chunk = responses.chunk
            } else {
                chunk = responses.chunk.getSlice(at: responses.chunk.readerIndex, length: Int(remaining))!
            }
            remaining -= UInt64(chunk.readableBytes)
            state = .streamingBytes(remaining: remaining)
            context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
        }
        if remaining == 0 {
            finish(context: context)
        }
        // Flushing may synchronously make the channel writable again and re-enter this method;
        // all state is up to date by now.
        needsFlush = false
        context.flush()
    }

    /// A `hello` answer after the fault's delay, with the fault's status (or 200 `hello`).
    private func answerWithFault(context: ChannelHandlerContext, _ fault: DemoFault) {
        let answer = {
            if let code = fault.status {
                self.respondText(context: context, status: HTTPResponseStatus(statusCode: code), "status \(code)\n")
            } else {
                self.respond(context: context, status: .ok, headers: self.responses.helloHeaders, body: self.responses.helloBody)
            }
        }
        guard fault.delayMilliseconds > 0 else { return answer() }
        state = .answering
        delayTask = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(fault.delayMilliseconds)) {
            self.delayTask = nil
            guard case .answering = self.state else { return }
            answer()
            self.flushIfNeeded(context: context)
        }
    }

    private func respondText(
        context: ChannelHandlerContext, status: HTTPResponseStatus, _ text: String, contentType: String = "text/plain"
    ) {
        let body = ByteBuffer(string: text)
        let headers = responses.headers(contentType: contentType, contentLength: body.readableBytes)
        respond(context: context, status: status, headers: headers, body: body)
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        writeHead(context: context, status: status, headers: headers)
        if let body {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        finish(context: context)
    }

    /// Writes the response head, adding the `connection` header HTTP/1 needs.
    private func writeHead(context: ChannelHandlerContext, status: HTTPResponseStatus, headers: HTTPHeaders) {
        var headers = headers
        if version.major == 1 {
            if !keepAlive {
                headers.replaceOrAdd(name: "connection", value: "close")
            } else if version.minor == 0 {
                // HTTP/1.0 has no chunking: a response without a length ends with the connection.
                if headers.contains(name: "content-length") {
                    headers.replaceOrAdd(name: "connection", value: "keep-alive")
                } else {
                    keepAlive = false
                }
            }
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
    }

    /// Ends the response. The pipelining handler may deliver the next request from inside this
    /// write, so the state is reset first.
    private func finish(context: ChannelHandlerContext, trailers: HTTPHeaders? = nil) {
        needsFlush = true
        if keepAlive {
            state = .idle
            context.write(wrapOutboundOut(.end(trailers)), promise: nil)
        } else {
            state = .closing
            needsFlush = false
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
    }

    // MARK: Misbehaviour on purpose

    /// `/close`: drop the connection (for HTTP/2, the whole connection, not just the stream).
    private func closeWithoutAnswer(context: ChannelHandlerContext) {
        state = .closing
        if version.major >= 2, let parent = context.channel.parent {
            parent.close(promise: nil)
        } else {
            context.close(promise: nil)
        }
    }

    /// `/reset`: promise 100000 bytes, send 10, then reset (TCP RST for HTTP/1, RST_STREAM for HTTP/2).
    private func resetMidResponse(context: ChannelHandlerContext) {
        let headers = responses.headers(contentType: "application/octet-stream", contentLength: 100_000)
        writeHead(context: context, status: .ok, headers: headers)
        state = .closing
        let partial = responses.chunk.getSlice(at: responses.chunk.readerIndex, length: 10)!
        needsFlush = false
        let isHTTP1 = version.major == 1
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(partial)))).assumeIsolated().whenComplete { _ in
            guard isHTTP1, let socket = context.channel as? SocketOptionProvider else {
                // HTTP/2: closing the stream channel sends RST_STREAM.
                context.close(promise: nil)
                return
            }
            // Linger 0 makes close() send a TCP RST instead of a FIN.
            socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}
