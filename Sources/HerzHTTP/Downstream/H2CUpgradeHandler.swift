import NIOCore
import NIOHTTP1

/// HTTP/1.1 → HTTP/2 upgrade (`Upgrade: h2c`, RFC 7540 §3.2) on a cleartext listener.
///
/// Placed between the HTTP/1.1 decoder and the response encoder for the first request of the
/// connection only; ``H2CUpgradeStateMachine`` decides, this handler carries the actions out:
///
/// - Not an upgrade request (the ordinary case): the head passes on and the handler leaves at
///   once, so a plain HTTP/1.1 connection pays nothing per request.
/// - Declined attempt: served as HTTP/1.1; at its end the handler leaves, replacing the decoder
///   if `Connection: upgrade` made it stop parsing, so the connection stays usable.
/// - Malformed `HTTP2-Settings`: a raw 400 with a lingering close.
/// - Upgrade: the request and its body are held; at its end the handler writes
///   `101 Switching Protocols`, removes the HTTP/1.1 handlers, installs the HTTP/2 server
///   pipeline behind an ``H2CStreamOneInjector``, and removes the decoder (which hands the bytes
///   it holds after the request to the injector) and itself.
///
/// Design: NIO's `HTTPServerUpgradeHandler` was not used. It hands an upgrader the head only,
/// while here the whole request (body included) must become stream 1; and NIOHTTP2 has no API to
/// open a server-side stream 1. So the request is replayed as the HTTP/2 frames the client would
/// have sent, spliced in after its first SETTINGS frame; the HTTP/2 handler, its flood
/// protections and the per-stream pipeline are the same as for prior knowledge.
///
/// Owned by the connection's pipeline; all calls on its event loop.
final class H2CUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    static let switchingProtocols = "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n"

    private var machine = H2CUpgradeStateMachine()
    private let http1Handlers: [RemovableChannelHandler]
    private let makeDecoder: () -> ByteToMessageHandler<HTTPRequestDecoder>
    private let configureHTTP2: (Channel) throws -> Void
    private let onReject: () -> Void

    /// - Parameters:
    ///   - http1Handlers: the HTTP/1.1 handlers behind this one, removed when the connection
    ///     switches to HTTP/2.
    ///   - makeDecoder: a fresh HTTP/1.1 decoder, for when a declined `Upgrade` stopped the one
    ///     in place. The decoder in place must forward its left-over bytes when removed.
    ///   - configureHTTP2: installs the HTTP/2 server pipeline at the end of the pipeline.
    ///   - onReject: counts a 400 for a malformed `HTTP2-Settings`.
    init(http1Handlers: [RemovableChannelHandler],
         makeDecoder: @escaping () -> ByteToMessageHandler<HTTPRequestDecoder>,
         configureHTTP2: @escaping (Channel) throws -> Void,
         onReject: @escaping () -> Void = {}) {
        self.http1Handlers = http1Handlers
        self.makeDecoder = makeDecoder
        self.configureHTTP2 = configureHTTP2
        self.onReject = onReject
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: H2CUpgradeStateMachine.Action
        switch unwrapInboundIn(data) {
        case .head(let head): action = machine.receiveHead(head)
        case .body(let body): action = machine.receiveBody(body)
        case .end(let trailers): action = machine.receiveEnd(trailers)
        }
        switch action {
        case .hold, .ignore:
            return
        case .pass(let parts, let then):
            for part in parts { context.fireChannelRead(wrapInboundOut(part)) }
            if case .leave(let restartDecoder) = then { leave(context: context, restartDecoder: restartDecoder) }
        case .reject(let reason):
            reject(context: context, reason: reason)
        case .upgrade(let request, let body):
            do {
                try switchToHTTP2(context: context, request: request, body: body)
            } catch {
                context.close(promise: nil)
            }
        }
    }

    private func leave(context: ChannelHandlerContext, restartDecoder: Bool) {
        let sync = context.pipeline.syncOperations
        if restartDecoder {
            do {
                let old = try sync.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
                try sync.addHandler(makeDecoder(), position: .after(old.handler))
                // Removal runs on a later tick and forwards the bytes the old decoder holds to the new one.
                sync.removeHandler(context: old, promise: nil)
            } catch {
                context.close(promise: nil)
                return
            }
        }
        sync.removeHandler(context: context, promise: nil)
    }

    private func switchToHTTP2(context: ChannelHandlerContext, request: H2CUpgradeRequest, body: ByteBuffer) throws {
        let streamOne = try H2CStreamOneFrames.encode(request, body: body, allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: Self.switchingProtocols)), promise: nil)
        let sync = context.pipeline.syncOperations
        for handler in http1Handlers { sync.removeHandler(handler, promise: nil) }
        try sync.addHandler(H2CStreamOneInjector(splicer: H2CPrefaceSplicer(settingsPayload: request.settingsPayload,
                                                                            streamOne: streamOne)))
        try configureHTTP2(context.channel)
        // The decoder stopped parsing at the end of the upgrade request (llhttp sees the switch);
        // its removal, on a later tick, passes what it holds on to the injector.
        let decoder = try sync.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
        sync.removeHandler(context: decoder, promise: nil)
        sync.removeHandler(context: context, promise: nil)
    }

    /// A raw 400 below the HTTP/1.1 handlers, then a lingering close: shut our side, discard what
    /// still arrives for up to a second, close (closing with unread input would reset the TCP
    /// connection and could destroy the response).
    private func reject(context: ChannelHandlerContext, reason: String) {
        onReject()
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(RawErrorResponse.bytes(status: .badRequest, reason: reason)))
            .whenComplete { _ in
                channel.close(mode: .output, promise: nil)
                channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
            }
    }
}
