import HerzCore
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// The upstream connections of one worker to one endpoint.
///
/// HTTP/1.1: a LIFO stack of idle keep-alive connections; a request takes one or opens a new one
/// while the cluster's `max_connections` allows, else waits (bounded by `max_pending_requests`),
/// else fails fast as overflow. HTTP/2: one multiplexed connection, a stream per request.
/// Owned by one event loop; never touched from another thread.
final class EndpointPool {
    typealias Completion = (Result<UpstreamExchange, UpstreamFailure>) -> Void

    let endpoint: Int
    let address: HostPort
    let eventLoop: EventLoop
    let cluster: SharedCluster
    /// Idle keep-alive connections, most recently used last (LIFO keeps few connections warm).
    private var idle: [(channel: Channel, handler: UpstreamExchangeHandler, since: NIODeadline)] = []
    private var idleSweep: RepeatedTask?
    private var waiters = CircularBuffer<(id: Int, completion: Completion)>()
    private var nextWaiterID = 0
    private var h2: HTTP2Connection?
    private var closed = false

    init(endpoint: Int, address: HostPort, eventLoop: EventLoop, cluster: SharedCluster) {
        self.endpoint = endpoint
        self.address = address
        self.eventLoop = eventLoop
        self.cluster = cluster
    }

    private var config: ClusterConfig { cluster.config }

    /// Gets an exchange. Returns a waiter id (for ``cancelWaiter(_:)``) when the request had to queue.
    @discardableResult
    func acquire(_ completion: @escaping Completion) -> Int? {
        if config.upstreamProtocol == .http2 {
            acquireHTTP2(completion)
            return nil
        }
        if let exchange = takeIdle() {
            completion(.success(exchange))
            return nil
        }
        if tryReserveConnection() {
            connectHTTP1(completion)
            return nil
        }
        let pending = cluster.pendingRequests.loadThenWrappingIncrement(ordering: .relaxed)
        guard pending < config.circuitBreakers.maxPendingRequests else {
            cluster.pendingRequests.wrappingDecrement(ordering: .relaxed)
            completion(.failure(.overflow("max_connections and max_pending_requests reached")))
            return nil
        }
        nextWaiterID += 1
        waiters.append((nextWaiterID, completion))
        return nextWaiterID
    }

    /// The most recently used idle HTTP/1.1 connection, if any: the common case, served without
    /// allocating a completion closure.
    func takeIdle() -> UpstreamExchange? {
        while let (channel, handler, _) = idle.popLast() {
            if channel.isActive {
                return UpstreamExchange(handler: handler, channel: channel, endpoint: endpoint, pool: self, isHTTP2Stream: false)
            }
        }
        return nil
    }

    func cancelWaiter(_ id: Int) {
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: index)
            cluster.pendingRequests.wrappingDecrement(ordering: .relaxed)
        }
    }

    func release(_ exchange: UpstreamExchange, reusable: Bool) {
        if reusable && exchange.channel.isActive && !closed {
            if let waiter = waiters.popFirst() {
                cluster.pendingRequests.wrappingDecrement(ordering: .relaxed)
                waiter.completion(.success(UpstreamExchange(handler: exchange.handler, channel: exchange.channel, endpoint: endpoint, pool: self, isHTTP2Stream: false)))
            } else {
                idle.append((exchange.channel, exchange.handler, .now()))
                startIdleSweep()
            }
            return
        }
        exchange.channel.close(promise: nil)
        // The closed connection frees a slot (in its close callback); give it to a waiter.
    }

    /// Closes idle connections and fails waiters (config removed this cluster or kernel stops).
    func shutdown() {
        closed = true
        for entry in idle { entry.channel.close(promise: nil) }
        idle.removeAll()
        idleSweep?.cancel()
        idleSweep = nil
        while let waiter = waiters.popFirst() {
            cluster.pendingRequests.wrappingDecrement(ordering: .relaxed)
            waiter.completion(.failure(.overflow("cluster removed")))
        }
        h2?.close()
        h2 = nil
    }

    /// Closes connections idle longer than the cluster's `idle_timeout`. One repeated task per pool,
    /// started when a connection first goes idle: no timer per request.
    private func startIdleSweep() {
        guard idleSweep == nil else { return }
        let timeout = config.idleConnectionTimeout
        let period = max(TimeAmount.milliseconds(100), .nanoseconds(timeout.nanoseconds / 2))
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        idleSweep = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            loopBound.value.closeExpiredIdle(olderThan: timeout)
        }
    }

    private func closeExpiredIdle(olderThan timeout: TimeAmount) {
        let cutoff = NIODeadline.now() - timeout
        // Oldest first: entries are in release order.
        while let oldest = idle.first, oldest.since <= cutoff {
            idle.removeFirst()
            oldest.channel.close(promise: nil)
        }
        if idle.isEmpty {
            idleSweep?.cancel()
            idleSweep = nil
        }
    }

    // MARK: HTTP/1.1

    private func tryReserveConnection() -> Bool {
        let current = cluster.connections.loadThenWrappingIncrement(ordering: .relaxed)
        if current < config.circuitBreakers.maxConnections { return true }
        cluster.connections.wrappingDecrement(ordering: .relaxed)
        return false
    }

    private func connectionClosed() {
        cluster.connections.wrappingDecrement(ordering: .relaxed)
        if !waiters.isEmpty && !closed && tryReserveConnection(), let waiter = waiters.popFirst() {
            cluster.pendingRequests.wrappingDecrement(ordering: .relaxed)
            connectHTTP1(waiter.completion)
        }
    }

    private func socketAddress() throws -> SocketAddress {
        guard let address = cluster.resolvedAddresses[endpoint] else {
            throw UpstreamFailure.connectFailure("cannot resolve \(self.address)")
        }
        return address
    }

    func bootstrap(_ initializer: @escaping (Channel) -> EventLoopFuture<Void>) -> ClientBootstrap {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(config.connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer(initializer)
    }

    private func connectHTTP1(_ completion: @escaping Completion) {
        let handler = UpstreamExchangeHandler.http1()
        let target: SocketAddress
        do { target = try socketAddress() } catch {
            cluster.connections.wrappingDecrement(ordering: .relaxed)
            completion(.failure(.connectFailure("cannot resolve \(address): \(error)")))
            return
        }
        open(target) { channel in
            do {
                try handler.addHTTP1Handlers(to: channel)
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch { return channel.eventLoop.makeFailedFuture(error) }
        }.whenComplete { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let channel):
                handler.onClose = { [weak self] in self?.connectionClosed() }
                completion(.success(UpstreamExchange(handler: handler, channel: channel, endpoint: self.endpoint, pool: self, isHTTP2Stream: false)))
            case .failure(let error):
                self.connectionClosed()
                completion(.failure(self.connectFailure(error)))
            }
        }
    }

    // MARK: HTTP/2

    private func acquireHTTP2(_ completion: @escaping Completion) {
        if h2 == nil || h2?.isDead == true {
            guard tryReserveConnection() else {
                completion(.failure(.overflow("max_connections reached")))
                return
            }
            let target: SocketAddress
            do { target = try socketAddress() } catch {
                cluster.connections.wrappingDecrement(ordering: .relaxed)
                completion(.failure(.connectFailure("cannot resolve \(address): \(error)")))
                return
            }
            let connection = HTTP2Connection(endpoint: endpoint)
            h2 = connection
            connection.connect(open: { self.open(target, $0) }, failure: { [weak self] in self?.connectFailure($0) ?? .connectFailure("\($0)") },
                               connectFailure: { [weak self] in
                self?.cluster.connections.wrappingDecrement(ordering: .relaxed)
            })
        }
        h2!.openStream(completion)
    }
}

/// One multiplexed HTTP/2 connection to an endpoint; requests wait for it to be ready.
final class HTTP2Connection {
    let endpoint: Int
    private var multiplexer: NIOHTTP2Handler.StreamMultiplexer?
    private var channel: Channel?
    private var waiting: [EndpointPool.Completion] = []
    private(set) var isDead = false

    init(endpoint: Int) { self.endpoint = endpoint }

    func connect(open: (@escaping (Channel) -> EventLoopFuture<Void>) -> EventLoopFuture<Channel>,
                 failure: @escaping (Error) -> UpstreamFailure, connectFailure: @escaping () -> Void) {
        var mux: NIOHTTP2Handler.StreamMultiplexer?
        open { channel in
            do {
                var connectionConfig = NIOHTTP2Handler.ConnectionConfiguration()
                connectionConfig.targetWindowSize = 1 << 20
                var streamConfig = NIOHTTP2Handler.StreamConfiguration()
                streamConfig.targetWindowSize = 1 << 20
                mux = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                    mode: .client, connectionConfiguration: connectionConfig, streamConfiguration: streamConfig,
                    inboundStreamInitializer: { $0.close() })
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch { return channel.eventLoop.makeFailedFuture(error) }
        }.whenComplete { result in
            switch result {
            case .success(let channel):
                self.channel = channel
                self.multiplexer = mux
                channel.closeFuture.whenComplete { _ in
                    self.isDead = true
                    connectFailure()
                }
                let waiting = self.waiting
                self.waiting = []
                for completion in waiting { self.openStream(completion) }
            case .failure(let error):
                self.isDead = true
                connectFailure()
                let waiting = self.waiting
                self.waiting = []
                for completion in waiting { completion(.failure(failure(error))) }
            }
        }
    }

    func openStream(_ completion: @escaping EndpointPool.Completion) {
        if isDead {
            completion(.failure(.reset("HTTP/2 connection closed")))
            return
        }
        guard let multiplexer else {
            waiting.append(completion)
            return
        }
        let handler = UpstreamExchangeHandler()
        let endpoint = self.endpoint
        multiplexer.createStreamChannel { stream in
            do {
                try stream.pipeline.syncOperations.addHandlers([HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http), handler])
                return stream.eventLoop.makeSucceededVoidFuture()
            } catch { return stream.eventLoop.makeFailedFuture(error) }
        }.whenComplete { result in
            switch result {
            case .success(let stream):
                completion(.success(UpstreamExchange(handler: handler, channel: stream, endpoint: endpoint, pool: nil, isHTTP2Stream: true)))
            case .failure(let error):
                completion(.failure(.reset("cannot open HTTP/2 stream: \(error)")))
            }
        }
    }

    func close() { channel?.close(promise: nil) }
}
