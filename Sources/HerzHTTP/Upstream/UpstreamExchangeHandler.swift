import NIOCore
import NIOHTTP1

/// Why an upstream exchange failed before its response completed.
public enum UpstreamFailure: Error, Equatable {
    /// Could not connect (refused, unreachable, connect timeout).
    case connectFailure(String)
    /// The connection closed or errored mid-exchange.
    case reset(String)
    /// The circuit breaker or pending-request limit refused the request.
    case overflow(String)
    /// The upstream sent something that is not valid HTTP.
    case protocolError(String)
    /// The TLS handshake with the upstream failed (bad certificate, name mismatch, no client
    /// certificate accepted, ...): `reason` is the short token sent in `x-herz-upstream-tls-error`.
    case tlsFailure(reason: String, detail: String)
}

/// Receives the response side of one upstream exchange. Called on the exchange's event loop.
protocol UpstreamResponseDelegate: AnyObject {
    func upstreamReceived(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    func upstreamFailed(_ failure: UpstreamFailure)
    func upstreamWritabilityChanged(isWritable: Bool)
}

/// The last handler of every upstream channel: an HTTP/1.1 connection (reused across exchanges) or
/// one HTTP/2 stream channel. It forwards response parts to the exchange's delegate and reports a
/// connection that dies while an exchange is in flight. One handler type serves both protocols, since
/// NIO's decoders present both as `HTTPClientResponsePart`s.
///
/// On an HTTP/1.1 connection it serialises requests itself (``HTTP1MessageWriter``: head, small body
/// chunks and end in one buffer per flush) and writes them below NIO's response decoder, which it
/// tells each request head so that responses to `HEAD` are framed right. On an HTTP/2 stream it
/// writes `HTTPClientRequestPart`s to NIO's HTTP/2 codec.
final class UpstreamExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The exchange in flight, if any.
    weak var delegate: UpstreamResponseDelegate?
    /// True between the response head and end (or failure).
    private(set) var responseInFlight = false
    /// Called when the channel closes (the pool forgets the connection).
    var onClose: (() -> Void)?
    private var context: ChannelHandlerContext?
    /// HTTP/1.1: the response decoder in front of this handler (nil on HTTP/2 streams).
    private let responseDecoder: HTTPResponseDecoder?
    /// HTTP/1.1: the request serialiser.
    private var writer: HTTP1MessageWriter?
    /// HTTP/1.1: the decoder's context; serialised bytes are written from there towards the socket
    /// (through the decoder they would be taken for request parts).
    private var socketSide: ChannelHandlerContext?

    /// - Parameter responseDecoder: for an HTTP/1.1 connection, the decoder placed right before this
    ///   handler; nil for an HTTP/2 stream channel (behind NIO's HTTP/2 → HTTP/1 codec).
    init(responseDecoder: HTTPResponseDecoder? = nil) {
        self.responseDecoder = responseDecoder
    }

    /// A handler for an HTTP/1.1 upstream connection; install it with ``addHTTP1Handlers(to:)``.
    static func http1() -> UpstreamExchangeHandler {
        UpstreamExchangeHandler(responseDecoder: HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes))
    }

    /// The pipeline of an HTTP/1.1 upstream connection: NIO's response decoder, then this handler.
    func addHTTP1Handlers(to channel: Channel) throws {
        guard let responseDecoder else { preconditionFailure("not an HTTP/1.1 exchange handler") }
        try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(responseDecoder), self])
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if responseDecoder != nil {
            writer = HTTP1MessageWriter(allocator: context.channel.allocator)
            socketSide = try? context.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<HTTPResponseDecoder>.self)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.socketSide = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let head) where head.status.code >= 200 || head.status == .switchingProtocols:
            responseInFlight = true
        case .end:
            responseInFlight = false
        default:
            break
        }
        if let delegate {
            delegate.upstreamReceived(part)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A TLS 1.3 server checks the client certificate after Herz's side of the handshake is
        // done: its refusal arrives as an alert on the first read, and is a TLS failure too.
        let failure: UpstreamFailure = error is HTTPParserError
            ? .protocolError("\(error)") : (UpstreamTLSError.tlsAlert(error).map { .tlsFailure(reason: $0.reason, detail: $0.detail) } ?? .reset("\(error)"))
        failExchange(failure)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failExchange(.reset("upstream connection closed"))
        onClose?()
        onClose = nil
        context.fireChannelInactive()
    }

    private func failExchange(_ failure: UpstreamFailure) {
        guard let delegate else { return }
        self.delegate = nil
        responseInFlight = false
        delegate.upstreamFailed(failure)
    }

    // MARK: writing (used by the exchange owner)

    /// Writes a request head. `hasBody`: body chunks or trailers follow (HTTP/1.1 framing needs to
    /// know: chunked unless the head has `content-length`).
    func writeHead(_ head: HTTPRequestHead, hasBody: Bool) {
        guard let context else { return }
        if let responseDecoder, writer != nil {
            responseDecoder.write(data: .head(head))  // pairs the coming response with this method
            writer!.writeRequestHead(head, hasBody: hasBody)
        } else {
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        }
    }

    /// Writes a request body chunk or the request's end (not flushed).
    func write(_ part: HTTPClientRequestPart) {
        guard let context else { return }
        guard writer != nil, let socketSide else {
            context.write(wrapOutboundOut(part), promise: nil)
            return
        }
        switch part {
        case .head(let head):
            writeHead(head, hasBody: true)
        case .body(let data):
            let writes = writer!.appendBody(data)
            writes.write(through: socketSide)
        case .end(let trailers):
            writer!.writeEnd(trailers)
        }
    }

    func flush() {
        guard let context else { return }
        if let socketSide {
            writePending(socketSide)
            socketSide.flush()
        } else {
            context.flush()
        }
    }

    private func writePending(_ socketSide: ChannelHandlerContext) {
        if let bytes = writer?.takePending() { socketSide.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil) }
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// False while backpressure from the downstream has paused reading.
    private(set) var isReading = true

    /// Stops or resumes reading the upstream response (backpressure from the downstream).
    func setReading(_ enabled: Bool) {
        guard let context, enabled != isReading else { return }
        isReading = enabled
        context.channel.setOption(ChannelOptions.autoRead, value: enabled).whenFailure { _ in }
        // HTTP/2 stream channels do not read again by themselves when autoRead is switched back on,
        // and their read delivers buffered frames synchronously: ask on the next loop turn so the
        // caller is never re-entered.
        if enabled && context.channel.parent != nil {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.execute { loopBound.value.read() }
        }
    }
}
