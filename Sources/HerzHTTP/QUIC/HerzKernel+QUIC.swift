import HerzCore
import HerzQUIC
import Foundation
import NIOCore

/// Binding and draining of `protocol: quic` listeners (docs/http3.md).
extension HerzKernel {
    /// One UDP socket per worker on the listener's port (`SO_REUSEPORT`), each with its
    /// ``QUICEndpoint``; the endpoints of a listener form a ``QUICEndpointGroup`` so that connection
    /// IDs route datagrams to the worker that owns the connection. Port 0 binds the first worker
    /// to an ephemeral port and the others to the same one.
    func bindQUIC(_ listener: ListenerConfig) throws -> BoundListener {
        guard let tls = listener.tls else { throw QUICError.tls(function: "listener \(listener.name)", message: "quic needs tls") }
        guard workers.count <= 256 else { throw QUICError.tls(function: "listener \(listener.name)", message: "at most 256 workers serve QUIC") }
        let credentials = try loadQUICCertificate(tls)
        let observer = QUICMetrics(registry: metrics.registry, listener: listener.name)
        let parameters = try QUICConnectionParameters(
            listenerName: listener.name, credentials: QUICCredentialSlot(credentials), quic: listener.quic,
            maxConcurrentStreams: listener.limits.maxConcurrentStreams, idleTimeout: listener.limits.idleTimeout,
            maxHeaderBytes: listener.limits.maxRequestHeadersBytes, observer: observer)
        let group = QUICEndpointGroup(workerCount: workers.count)
        let bound = BoundListener(config: listener, tls: nil)
        bound.quicGroup = group
        bound.quicCredentials = parameters.credentials
        var port = listener.address.port
        do {
            for worker in workers {
                let endpoint = QUICEndpoint(parameters: parameters, workerIndex: worker.index, group: group, eventLoop: worker.eventLoop,
                                            streamHandlerFactory: HTTP3DownstreamFactory(worker: worker, listenerName: listener.name),
                                            observer: observer, logger: logger)
                let channel = try QUICListenerSocket.bind(host: listener.address.host, port: port, on: worker.eventLoop,
                                                          endpoint: endpoint).wait()
                if port == 0 { port = channel.localAddress?.port ?? 0 }
                bound.channels.append(channel)
            }
        } catch {
            for channel in bound.channels { channel.close(promise: nil) }
            throw error
        }
        return bound
    }

    /// Sends GOAWAY on every QUIC connection and refuses new ones; each connection closes after
    /// its last request.
    func drainQUIC(_ listeners: [BoundListener]) {
        for listener in listeners { listener.quicGroup?.forEach { $0.drain() } }
    }

    /// The certificate of a reload that changed a running quic listener's `tls:` (loaded before
    /// anything is swapped, so a bad file rejects the reload). Once swapped into the listener's
    /// ``QUICCredentialSlot``, new connections use it; established ones keep theirs.
    func loadQUICCertificate(_ tls: TLSConfig) throws -> QUICTLSCredentials {
        try QUICTLSCredentials(certificatePath: tls.certificatePath, privateKeyPath: tls.privateKeyPath)
    }

    /// A quic listener that a reload removed: its connections get GOAWAY and finish their
    /// requests (new connections are refused); its sockets close once the last connection has, or
    /// after `within` (the config's drain_timeout). Waits off the caller's thread.
    func retireQUIC(_ bound: BoundListener, within timeout: TimeAmount) {
        drainQUIC([bound])
        let deadline = DispatchTime.now() + .nanoseconds(Int(timeout.nanoseconds))
        let channels = bound.channels, groups = bound.quicGroup.map { [$0] } ?? [], name = bound.config.name
        DispatchQueue.global().async {
            if !self.waitForQUICDrain(groups, until: deadline) {
                self.logger.warning("removed quic listener: drain timeout reached; closing its connections",
                                    metadata: ["listener": "\(name)"])
            }
            for channel in channels { channel.close(promise: nil) }
        }
    }

    /// Waits until every connection of `groups` has closed; false at the deadline.
    func waitForQUICDrain(_ groups: [QUICEndpointGroup], until deadline: DispatchTime) -> Bool {
        while groups.contains(where: { $0.connectionCount > 0 }) {
            if DispatchTime.now() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }
}
