import HerzCore
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// The per-connection side of downstream mTLS, run once the handshake (and ALPN) is done: reads
/// the verified peer certificate, applies `allowed_sans`, and yields the XFCC value for every
/// request of the connection. Also logs failed handshakes (the client without a required
/// certificate, with an expired or wrong-CA one): listener, peer address and BoringSSL's reason.
enum DownstreamClientAuth {
    struct Refused: Error, CustomStringConvertible {
        let reason: String
        var description: String { "client certificate refused: \(reason)" }
    }

    /// The XFCC value for this connection (nil: no certificate, or `client_auth: none`); throws
    /// ``Refused`` (after logging) when the certificate's SANs are not allowed.
    static func identity(of channel: Channel, tls: TLSConfig?, listener: String, logger: Logger) throws -> String? {
        guard let tls, tls.clientAuth != .none,
              let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
              let certificate = handler.peerCertificate else { return nil }
        let identity = ClientCertificateIdentity(certificate: certificate)
        guard identity.isAllowed(by: tls.allowedSANs) else {
            logger.warning("client certificate refused: no SAN in allowed_sans", metadata: [
                "listener": "\(listener)", "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
                "subject": "\(identity.xfcc.subjectRFC2253)", "sans": "\((identity.dnsNames + identity.uris).joined(separator: ","))",
            ])
            throw Refused(reason: "SAN not allowed")
        }
        return identity.xfcc.headerValue
    }
}

/// Sits right after the TLS server handler and logs a failed handshake once; the connection is
/// closed by the TLS handler itself. Leaves the pipeline once the handshake succeeded.
final class DownstreamHandshakeLogger: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let listener: String
    private let logger: Logger
    private var logged = false

    init(listener: String, logger: Logger) { self.listener = listener; self.logger = logger }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !logged {
            logged = true
            logger.warning("downstream TLS handshake failed", metadata: [
                "listener": "\(listener)", "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")",
                "reason": "\(TLSFailureReason.classify("\(error)"))", "detail": "\(error)",
            ])
        }
        context.fireErrorCaught(error)
    }
}
