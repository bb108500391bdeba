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
/// NIO's codecs present both as `HTTPClientRequestPart`/`HTTPClientResponsePart`.
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

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

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
        let failure: UpstreamFailure = error is HTTPParserError
            ? .protocolError("\(error)") : .reset("\(error)")
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

    func write(_ part: HTTPClientRequestPart, flush: Bool) {
        guard let context else { return }
        context.write(wrapOutboundOut(part), promise: nil)
        if flush { context.flush() }
    }

    func flush() { context?.flush() }

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
