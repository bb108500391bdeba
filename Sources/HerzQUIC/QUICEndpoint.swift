import CHerzQUIC
import HerzCore
import Logging
import NIOCore

/// One worker's UDP socket of a `protocol: quic` listener and the connections it serves.
///
/// Every datagram is first triaged from its header alone (``QUICDatagramTriage``): malformed ones
/// and strays are dropped without state; a connection ID issued by another worker is handed to
/// that worker's endpoint (``QUICEndpointGroup``); unknown versions get Version Negotiation; new
/// Initials pass ``QUICAdmission`` (limits, Retry) before any state is allocated.
///
/// A channel handler on the worker's event loop; all its state is touched only there.
public final class QUICEndpoint: ChannelInboundHandler {
    public typealias InboundIn = AddressedEnvelope<ByteBuffer>
    public typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let parameters: QUICConnectionParameters
    let workerIndex: Int
    let group: QUICEndpointGroup
    let streamHandlerFactory: HTTP3StreamHandlerFactory
    let observer: QUICEndpointObserver?
    let logger: Logger
    let eventLoop: EventLoop
    private let triage: QUICDatagramTriage
    private let admission: QUICAdmission
    private var context: ChannelHandlerContext?
    private(set) var localAddress: SocketAddress?
    private(set) var allocator = ByteBufferAllocator()
    /// Where packets are built (ngtcp2 fills one packet over several calls, see QUICPacketWriter).
    let packetScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var table: [QUICConnectionID: QUICServerConnection] = [:]
    private var connections: [ObjectIdentifier: QUICServerConnection] = [:]
    private var handshakesInProgress = 0
    private var needsFlush = false
    private var draining = false

    public init(parameters: QUICConnectionParameters, workerIndex: Int, group: QUICEndpointGroup, eventLoop: EventLoop,
                streamHandlerFactory: HTTP3StreamHandlerFactory, observer: QUICEndpointObserver?, logger: Logger) {
        self.parameters = parameters
        self.workerIndex = workerIndex
        self.group = group
        self.eventLoop = eventLoop
        self.streamHandlerFactory = streamHandlerFactory
        self.observer = observer
        self.logger = logger
        triage = QUICDatagramTriage(layout: parameters.layout, localWorker: workerIndex, workerCount: group.workerCount,
                                    statelessReset: parameters.quic.statelessReset)
        admission = QUICAdmission(retry: parameters.quic.retry, maxConnections: parameters.quic.maxConnections)
    }

    deinit { packetScratch.deallocate() }

    /// Connections currently served (handshaking, established or closing).
    public var connectionCount: Int { connections.count }

    // MARK: channel events

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
        localAddress = context.channel.localAddress
        group.register(self)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        for connection in Array(connections.values) { connection.terminate() }
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        receive(envelope.data, from: envelope.remoteAddress, ecn: envelope.metadata?.ecnState)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded()
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        // UDP errors (ICMP port unreachable reported on send, …) concern one peer, not the socket.
        logger.debug("quic socket error", metadata: ["listener": "\(parameters.listenerName)", "error": "\(error)"])
    }

    // MARK: datagrams

    /// One datagram, from this worker's socket or handed over by another worker.
    func receive(_ datagram: ByteBuffer, from remote: SocketAddress, ecn: NIOExplicitCongestionNotificationState?) {
        observer?.quicEvent(.datagramReceived(bytes: datagram.readableBytes), listener: parameters.listenerName)
        let header = datagram.withUnsafeReadableBytes { QUICPacketHeader.parse($0, shortHeaderIDLength: parameters.layout.length) }
        let known = header.flatMap { table[$0.destination] }
        switch triage.action(header: header, datagramSize: datagram.readableBytes, isKnown: known != nil) {
        case .deliver:
            known!.receive(datagram, from: remote, ecn: Self.ecnBits(ecn))
        case .forward(let worker):
            group.forward(datagram, from: remote, to: worker)
        case .newConnection:
            accept(datagram, from: remote, ecn: Self.ecnBits(ecn))
        case .versionNegotiation:
            if case .long(_, _, let destination, let source)? = header { sendVersionNegotiation(destination: destination, source: source, to: remote) }
        case .statelessReset:
            sendStatelessReset(for: header!.destination, triggerSize: datagram.readableBytes, to: remote)
        case .drop(let reason):
            observer?.quicEvent(.datagramDropped(reason), listener: parameters.listenerName)
        }
    }

    static func ecnBits(_ state: NIOExplicitCongestionNotificationState?) -> UInt32 {
        switch state {
        case .transportCapableFlag0?: return 0x2
        case .transportCapableFlag1?: return 0x1
        case .congestionExperienced?: return 0x3
        case .transportNotCapable?, nil: return 0
        }
    }

    private func accept(_ datagram: ByteBuffer, from remote: SocketAddress, ecn: UInt32) {
        guard !draining, let localAddress else {
            observer?.quicEvent(.connectionRefused, listener: parameters.listenerName)
            return
        }
        datagram.withUnsafeReadableBytes { bytes in
            var header = ngtcp2_pkt_hd()
            let pointer = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let rv = ngtcp2_accept(&header, pointer, bytes.count)
            guard rv == 0 else {
                if rv == NGTCP2_ERR_RETRY {
                    sendRetry(for: header, to: remote, triggerSize: bytes.count)
                } else {
                    observer?.quicEvent(.datagramDropped(.malformed), listener: parameters.listenerName)
                }
                return
            }
            let token: QUICAdmission.Token
            if header.token.len == 0 {
                token = .none
            } else if header.token.base[0] == UInt8(NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
                token = .retry
            } else if header.token.base[0] == UInt8(NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR) {
                token = .addressToken
            } else {
                token = .other
            }
            var originalID: ngtcp2_cid?
            var addressValidated = false
            var decision = admission.decide(token: token, connections: connections.count, handshakesInProgress: handshakesInProgress)
            if decision == .verifyAddressToken {
                addressValidated = verifyAddressToken(header, from: remote)
                observer?.quicEvent(.addressTokenChecked(valid: addressValidated), listener: parameters.listenerName)
                decision = addressValidated
                    ? .accept : admission.decide(token: .none, connections: connections.count, handshakesInProgress: handshakesInProgress)
            }
            switch decision {
            case .refuse:
                observer?.quicEvent(.connectionRefused, listener: parameters.listenerName)
                sendStatelessClose(for: header, error: UInt64(NGTCP2_CONNECTION_REFUSED), to: remote)
                return
            case .sendRetry:
                sendRetry(for: header, to: remote, triggerSize: bytes.count)
                return
            case .verifyRetryToken:
                guard let original = verifyRetryToken(header, from: remote) else {
                    sendStatelessClose(for: header, error: UInt64(NGTCP2_INVALID_TOKEN), to: remote)
                    return
                }
                originalID = original
            case .accept, .verifyAddressToken:  // the second is resolved above
                break
            }
            let connection: QUICServerConnection
            do {
                connection = try QUICServerConnection(endpoint: self, header: header, originalID: originalID,
                                                      tokenValidated: originalID != nil || addressValidated, local: localAddress, peer: remote)
            } catch {
                logger.debug("quic connection set-up failed", metadata: ["error": "\(error)"])
                return
            }
            connections[ObjectIdentifier(connection)] = connection
            group.connectionsChanged(by: 1)
            for id in connection.routedIDs { table[id] = connection }
            handshakesInProgress += 1
            observer?.quicEvent(.connectionOpened, listener: parameters.listenerName)
            connection.receive(datagram, from: remote, ecn: ecn)
        }
    }

    // MARK: connection bookkeeping

    func makeConnectionID() -> QUICConnectionID {
        parameters.layout.makeID(worker: workerIndex) { QUICRandom.fill(&$0) }
    }

    func route(_ id: QUICConnectionID, to connection: QUICServerConnection) {
        table[id] = connection
        connection.routedIDs.insert(id)
    }

    func unroute(_ id: QUICConnectionID, from connection: QUICServerConnection) {
        if table[id] === connection { table[id] = nil }
        connection.routedIDs.remove(id)
    }

    func handshakeFinished(_ connection: QUICServerConnection, ok: Bool) {
        handshakesInProgress = max(0, handshakesInProgress - 1)
        observer?.quicEvent(ok ? .handshakeSucceeded : .handshakeFailed, listener: parameters.listenerName)
    }

    func idleTimedOut(_ connection: QUICServerConnection) {
        observer?.quicEvent(.idleTimeout, listener: parameters.listenerName)
    }

    func remove(_ connection: QUICServerConnection) {
        for id in connection.routedIDs where table[id] === connection { table[id] = nil }
        if connections.removeValue(forKey: ObjectIdentifier(connection)) != nil {
            group.connectionsChanged(by: -1)
            observer?.quicEvent(.connectionClosed, listener: parameters.listenerName)
        }
    }

    /// Drain: refuse new connections and send GOAWAY on every established one; each closes when
    /// its last request is done.
    public func drain() {
        draining = true
        for connection in Array(connections.values) { connection.shutDownGracefully() }
        flushIfNeeded()
    }

    // MARK: output

    func send(_ packet: ByteBuffer, to remote: SocketAddress) {
        guard let context else { return }
        observer?.quicEvent(.datagramSent(bytes: packet.readableBytes), listener: parameters.listenerName)
        needsFlush = true
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: packet)), promise: nil)
    }

    func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }
}
