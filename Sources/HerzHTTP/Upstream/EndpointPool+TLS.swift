import HerzCore
import Logging
import NIOCore

/// Opening an upstream connection, with TLS when the cluster has a `tls:` block: the connection
/// is handed out only after the handshake completed, so a bad certificate is a connect-time
/// failure (503 + `x-herz-upstream-tls-error`), never a reset in the middle of a request.
extension EndpointPool {
    static let tlsLogger = Logger(label: "herz.upstream.tls")

    /// Connects to `target`, runs `initializer` (the HTTP handlers) after the TLS handlers, and
    /// succeeds once the connection is usable.
    func open(_ target: SocketAddress, _ initializer: @escaping (Channel) -> EventLoopFuture<Void>) -> EventLoopFuture<Channel> {
        guard let tls = cluster.tls else { return bootstrap(initializer).connect(to: target) }
        let handshake = eventLoop.makePromise(of: Void.self)
        let host = address.host
        let connected = bootstrap { channel in
            do { try tls.addHandlers(to: channel, host: host, handshake: handshake) }
            catch { return channel.eventLoop.makeFailedFuture(error) }
            return initializer(channel)
        }.connect(to: target)
        connected.whenFailure { handshake.fail($0) }
        return connected.flatMap { channel in
            handshake.futureResult.map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }

    /// The failure a connect error means for the request; TLS handshake failures are logged here,
    /// once per connection attempt (cluster, endpoint and the library's reason; no key material).
    func connectFailure(_ error: Error) -> UpstreamFailure {
        guard let tlsError = error as? UpstreamTLSError else { return .connectFailure("\(address): \(error)") }
        Self.tlsLogger.warning("upstream TLS handshake failed", metadata: [
            "cluster": "\(cluster.config.name)", "endpoint": "\(address)",
            "reason": "\(tlsError.reason)", "detail": "\(tlsError.detail)",
        ])
        return .tlsFailure(reason: tlsError.reason, detail: "\(address): \(tlsError.detail)")
    }
}
