import HerzCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS

/// The TLS client side of one cluster: one `NIOSSLContext` shared by every worker and every
/// connection of the cluster (contexts are thread-safe and expensive to build), swapped when the
/// certificate files change.
///
/// Session resumption: swift-nio-ssl 2.37 has no client session cache API (no `SSL_SESSION`
/// get/set, no ticket store on the client), so every upstream connection does a full handshake;
/// keep-alive pooling (HTTP/1.1) and multiplexing (HTTP/2) are what amortise it. See docs/tls.md.
final class UpstreamTLS: Sendable {
    let config: UpstreamTLSConfig
    /// `.named`: full verification against the SNI name; `.chainOnly`: for IP endpoints without `sni`.
    private let contexts: NIOLockedValueBox<(named: NIOSSLContext, chainOnly: NIOSSLContext)>

    init(config: UpstreamTLSConfig) throws {
        self.config = config
        self.contexts = NIOLockedValueBox(try Self.makeContexts(config))
    }

    /// Rebuilds the contexts from the files (new connections use them; open ones keep theirs).
    func reloadFiles() throws {
        let fresh = try Self.makeContexts(config)
        contexts.withLockedValue { $0 = fresh }
    }

    static func makeContexts(_ tls: UpstreamTLSConfig) throws -> (named: NIOSSLContext, chainOnly: NIOSSLContext) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !tls.verify {
            configuration.certificateVerification = .none
        } else if let ca = tls.caPath {
            configuration.trustRoots = .certificates(try TLSFiles.certificates(ca))
        }
        configuration.applicationProtocols = tls.alpn
        if let cert = tls.certificatePath, let key = tls.privateKeyPath {
            configuration.certificateChain = try TLSFiles.certificates(cert).map { .certificate($0) }
            configuration.privateKey = .privateKey(try TLSFiles.privateKey(key))
        }
        let named = try NIOSSLContext(configuration: configuration)
        guard tls.verify else { return (named, named) }
        configuration.certificateVerification = .noHostnameVerification
        return (named, try NIOSSLContext(configuration: configuration))
    }

    /// Adds the TLS client handler and the handshake watcher to a new upstream channel. The name
    /// sent as SNI and checked is `sni`, else the endpoint's host when it is a DNS name; an IP
    /// endpoint without `sni` is verified by chain only (there is no name to check).
    func addHandlers(to channel: Channel, host: String, handshake: EventLoopPromise<Void>) throws {
        let isIP = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let serverName = config.sni ?? (isIP ? nil : host)
        let pair = contexts.withLockedValue { $0 }
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(try NIOSSLClientHandler(context: serverName == nil ? pair.chainOnly : pair.named, serverHostname: serverName))
        try sync.addHandler(TLSHandshakeWatcher(promise: handshake))
    }
}

/// Completes `promise` when the TLS handshake of its channel completes, fails it with
/// ``UpstreamTLSError`` when the handshake fails or the connection closes first. Removes itself
/// afterwards so it costs nothing per request.
final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private var promise: EventLoopPromise<Void>?

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            promise?.succeed(())
            promise = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise?.fail(UpstreamTLSError(error))
        promise = nil
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(UpstreamTLSError(reason: "handshake_eof", detail: "connection closed during the TLS handshake"))
        promise = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise?.fail(UpstreamTLSError(reason: "handshake_failed", detail: "handshake watcher removed"))
        promise = nil
    }
}

/// A failed upstream TLS handshake: a short machine-readable `reason` (the value of
/// `x-herz-upstream-tls-error`) and the library's description for the log. Neither holds key
/// material: BoringSSL's error strings name the failing check, not the data.
struct UpstreamTLSError: Error, CustomStringConvertible {
    let reason: String
    let detail: String

    init(reason: String, detail: String) { self.reason = reason; self.detail = detail }

    init(_ error: Error) {
        let text = "\(error)"
        self.detail = text
        self.reason = TLSFailureReason.classify(text)
    }

    /// `error` as a TLS failure when it is one swift-nio-ssl reported (an alert or handshake
    /// error on an established connection), else nil.
    static func tlsAlert(_ error: Error) -> UpstreamTLSError? {
        // A peer closing without close_notify is an ordinary close, not a TLS failure.
        if let error = error as? NIOSSLError, case .uncleanShutdown = error { return nil }
        guard error is NIOSSLError || error is BoringSSLError else { return nil }
        return UpstreamTLSError(error)
    }

    var description: String { "TLS handshake failed (\(reason)): \(detail)" }
}
