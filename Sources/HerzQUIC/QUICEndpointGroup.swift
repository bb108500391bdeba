import NIOConcurrencyHelpers
import NIOCore

/// The endpoints of one QUIC listener, one per worker, so a worker can hand a datagram to the
/// worker whose connection ID it carries (see ``QUICConnectionIDLayout``). Registration happens
/// at bind time; forwarding is rare (only after a client's address or port changed).
public final class QUICEndpointGroup: @unchecked Sendable {
    public let workerCount: Int
    private let endpoints: NIOLockedValueBox<[Int: QUICEndpoint]>
    private let connections = NIOLockedValueBox(0)

    public init(workerCount: Int) {
        self.workerCount = workerCount
        endpoints = NIOLockedValueBox([:])
    }

    /// Connections open on all workers (updated when one opens or is forgotten, never per packet).
    public var connectionCount: Int { connections.withLockedValue { $0 } }

    func connectionsChanged(by delta: Int) {
        connections.withLockedValue { $0 += delta }
    }

    func register(_ endpoint: QUICEndpoint) {
        endpoints.withLockedValue { $0[endpoint.workerIndex] = endpoint }
    }

    func forward(_ datagram: ByteBuffer, from remote: SocketAddress, to worker: Int) {
        guard let target = endpoints.withLockedValue({ $0[worker] }) else { return }
        let transfer = UncheckedTransfer(target)  // called on the receiving worker's loop, not the target's
        target.eventLoop.execute {
            transfer.value.receive(datagram, from: remote, ecn: nil)
            transfer.value.flushIfNeeded()
        }
    }

    /// Runs `body` on each endpoint's event loop (drain, metrics).
    public func forEach(_ body: @escaping @Sendable (QUICEndpoint) -> Void) {
        for endpoint in endpoints.withLockedValue({ Array($0.values) }) {
            let transfer = UncheckedTransfer(endpoint)  // called from any thread; used on its loop only
            endpoint.eventLoop.execute { body(transfer.value) }
        }
    }
}
