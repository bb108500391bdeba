import NIOConcurrencyHelpers
import NIOCore

/// The endpoints of one QUIC listener, one per worker, so a worker can hand a datagram to the
/// worker whose connection ID it carries (see ``QUICConnectionIDLayout``). Registration happens
/// at bind time; forwarding is rare (only after a client's address or port changed).
public final class QUICEndpointGroup: @unchecked Sendable {
    public let workerCount: Int
    private let endpoints: NIOLockedValueBox<[Int: QUICEndpoint]>

    public init(workerCount: Int) {
        self.workerCount = workerCount
        endpoints = NIOLockedValueBox([:])
    }

    func register(_ endpoint: QUICEndpoint) {
        endpoints.withLockedValue { $0[endpoint.workerIndex] = endpoint }
    }

    func forward(_ datagram: ByteBuffer, from remote: SocketAddress, to worker: Int) {
        guard let target = endpoints.withLockedValue({ $0[worker] }) else { return }
        let loopBound = NIOLoopBound(target, eventLoop: target.eventLoop)
        target.eventLoop.execute {
            loopBound.value.receive(datagram, from: remote, ecn: nil)
            loopBound.value.flushIfNeeded()
        }
    }

    /// Runs `body` on each endpoint's event loop (drain, metrics).
    public func forEach(_ body: @escaping @Sendable (QUICEndpoint) -> Void) {
        for endpoint in endpoints.withLockedValue({ Array($0.values) }) {
            let loopBound = NIOLoopBound(endpoint, eventLoop: endpoint.eventLoop)
            endpoint.eventLoop.execute { body(loopBound.value) }
        }
    }
}
