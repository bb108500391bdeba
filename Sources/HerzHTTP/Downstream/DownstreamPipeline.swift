import HerzCore
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOHTTP2
import NIOSSL

/// Builds the channel pipelines of downstream connections: the fewest handlers that do the job,
/// since every handler costs on every request.
///
/// HTTP/1.1: decoder → ``DownstreamHTTPHandler`` (which orders pipelined requests and serialises
/// responses itself); on cleartext, an ``H2CUpgradeHandler`` after the decoder for the first
/// request only.
/// HTTP/2: NIO's HTTP/2 handler (with its flood protections) → per stream: HTTP/2↔HTTP/1 codec →
/// ``DownstreamHTTPHandler``.
enum DownstreamPipeline {
    /// With `h2cUpgrade` (cleartext listeners), an ``H2CUpgradeHandler`` watches the first request
    /// for `Upgrade: h2c` and leaves the pipeline after it.
    static func configureHTTP1(_ channel: Channel, worker: Worker, listener: ListenerConfig, scheme: String,
                               h2cUpgrade: Bool = false, forwardedClientCert: String? = nil) throws {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = listener.limits.maxRequestHeadersBytes
        limits.maxHeaderFieldSize = listener.limits.maxRequestHeadersBytes
        // An upgrade removes the decoder: the bytes after the request then belong to HTTP/2.
        let leftOvers: RemoveAfterUpgradeStrategy = h2cUpgrade ? .forwardBytes : .dropBytes
        let makeDecoder = {
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: leftOvers, limitConfiguration: limits))
        }
        let downstream = DownstreamHTTPHandler(worker: worker, listenerName: listener.name, scheme: scheme, isHTTP2Stream: false)
        downstream.forwardedClientCert = forwardedClientCert
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(makeDecoder())
        if h2cUpgrade {
            try sync.addHandler(H2CUpgradeHandler(
                http1Handlers: [downstream], makeDecoder: makeDecoder,
                configureHTTP2: { try configureHTTP2($0, worker: worker, listener: listener, scheme: scheme) },
                onReject: { worker.metrics.protocolError(listener: listener.name, status: 400) }))
        }
        try sync.addHandler(downstream)
    }

    static func http2Configuration(_ listener: ListenerConfig) -> (NIOHTTP2Handler.ConnectionConfiguration, NIOHTTP2Handler.StreamConfiguration) {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: listener.limits.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: listener.limits.maxRequestHeadersBytes),
            HTTP2Setting(parameter: .initialWindowSize, value: 1 << 20),
        ]
        connection.targetWindowSize = 4 << 20
        // Flood protections (rapid reset, control-frame floods, CONTINUATION floods) stay at NIO's
        // defaults, which are on.
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = 1 << 20
        return (connection, stream)
    }

    static func configureHTTP2(_ channel: Channel, worker: Worker, listener: ListenerConfig, scheme: String,
                               forwardedClientCert: String? = nil) throws {
        let (connection, stream) = http2Configuration(listener)
        let name = listener.name
        // Before the HTTP/2 handler, so it sees every byte (stream frames never pass the handler).
        try channel.pipeline.syncOperations.addHandler(HTTP2IdleCloser(timeout: listener.limits.idleTimeout))
        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: stream
        ) { streamChannel in
            do {
                let downstream = DownstreamHTTPHandler(worker: worker, listenerName: name, scheme: scheme, isHTTP2Stream: true)
                downstream.forwardedClientCert = forwardedClientCert
                try streamChannel.pipeline.syncOperations.addHandlers([HTTP2FramePayloadToHTTP1ServerCodec(), downstream])
                return streamChannel.eventLoop.makeSucceededVoidFuture()
            } catch {
                return streamChannel.eventLoop.makeFailedFuture(error)
            }
        }
        try channel.pipeline.syncOperations.addHandler(HTTP2ConnectionGuard())
    }

    /// Cleartext listener: HTTP/1.1 or HTTP/2 prior knowledge, told apart by the first bytes;
    /// HTTP/1.1 may then switch to HTTP/2 with `Upgrade: h2c`.
    static func configureCleartext(_ channel: Channel, worker: Worker, listener: ListenerConfig) throws {
        try channel.pipeline.syncOperations.addHandler(HTTPProtocolSniffer(
            http1: { try configureHTTP1($0, worker: worker, listener: listener, scheme: "http", h2cUpgrade: true) },
            http2: { try configureHTTP2($0, worker: worker, listener: listener, scheme: "http") }))
    }

    /// TLS listener: ALPN picks `h2` or `http/1.1`. With `client_auth`, the verified client
    /// certificate is read once the handshake is done (``DownstreamClientAuth``).
    static func configureTLS(_ channel: Channel, worker: Worker, listener: ListenerConfig, tls: NIOSSLContext) -> EventLoopFuture<Void> {
        do {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
            try channel.pipeline.syncOperations.addHandler(DownstreamHandshakeLogger(listener: listener.name, logger: worker.logger))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return channel.configureHTTP2SecureUpgrade(
            h2ChannelConfigurator: { ch in
                do {
                    let xfcc = try DownstreamClientAuth.identity(of: ch, tls: listener.tls, listener: listener.name, logger: worker.logger)
                    try configureHTTP2(ch, worker: worker, listener: listener, scheme: "https", forwardedClientCert: xfcc)
                } catch { return ch.close().flatMapThrowing { _ -> Void in throw error } }
                return ch.eventLoop.makeSucceededVoidFuture()
            },
            http1ChannelConfigurator: { ch in
                do {
                    let xfcc = try DownstreamClientAuth.identity(of: ch, tls: listener.tls, listener: listener.name, logger: worker.logger)
                    try configureHTTP1(ch, worker: worker, listener: listener, scheme: "https", forwardedClientCert: xfcc)
                } catch { return ch.close().flatMapThrowing { _ -> Void in throw error } }
                return ch.eventLoop.makeSucceededVoidFuture()
            })
    }
}

/// Closes an HTTP/2 connection that has seen no frames either way for the idle timeout.
final class HTTP2IdleCloser: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    private var timer: RepeatedTask?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: timeout, delay: .seconds(1)) { _ in
            let (handler, context) = loopBound.value
            if NIODeadline.now() - handler.lastActivity >= handler.timeout { context.close(promise: nil) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        context.write(data, promise: promise)
    }
}
