import HerzCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Active HTTP health checking of one cluster: every `interval`, each endpoint gets
/// `GET <path>` on a fresh connection; the verdicts go through a ``HealthCheckStateMachine`` per
/// endpoint and transitions are published to the ``SharedCluster`` that every worker reads.
///
/// Runs on one event loop (the first worker's); one checker per cluster, replaced on reload only
/// when the cluster's config changed.
final class ActiveHealthChecker: @unchecked Sendable {
    let cluster: SharedCluster
    private let eventLoop: EventLoop
    private let logger: Logger
    private var machines: [HealthCheckStateMachine]
    private var task: RepeatedTask?
    private var inFlight: [Bool]

    init(cluster: SharedCluster, eventLoop: EventLoop, logger: Logger) {
        self.cluster = cluster
        self.eventLoop = eventLoop
        self.logger = logger
        let config = cluster.config.healthCheck ?? HealthCheckConfig()
        self.machines = cluster.config.endpoints.map { _ in HealthCheckStateMachine(config: config) }
        self.inFlight = cluster.config.endpoints.map { _ in false }
    }

    func start() {
        guard let config = cluster.config.healthCheck else { return }
        eventLoop.execute {
            self.task = self.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: config.interval) { _ in
                self.checkAll(config)
            }
        }
    }

    func stop() {
        eventLoop.execute { self.task?.cancel(); self.task = nil }
    }

    private func checkAll(_ config: HealthCheckConfig) {
        for (index, endpoint) in cluster.config.endpoints.enumerated() where !inFlight[index] {
            inFlight[index] = true
            probe(index, endpoint.address, config: config).whenComplete { result in
                self.inFlight[index] = false
                guard self.task != nil else { return }
                let transition: HealthTransition?
                switch result {
                case .success(let status): transition = self.machines[index].checkCompleted(status: status)
                case .failure: transition = self.machines[index].checkFailed()
                }
                guard let transition else { return }
                let healthy = transition == .becameHealthy
                if self.cluster.setHealthy(index, healthy) {
                    self.logger.info("health check transition", metadata: [
                        "cluster": "\(self.cluster.config.name)", "endpoint": "\(endpoint.address)",
                        "healthy": "\(healthy)", "result": "\(result)"])
                }
            }
        }
    }

    /// One probe: connect, `GET path`, read the status line, close. Fails on timeout.
    private func probe(_ index: Int, _ address: HostPort, config: HealthCheckConfig) -> EventLoopFuture<Int> {
        let promise = eventLoop.makePromise(of: Int.self)
        let timeout = eventLoop.scheduleTask(in: config.timeout) {
            promise.fail(ChannelError.connectTimeout(config.timeout))
        }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        guard let target = cluster.resolvedAddresses[index] else {
            timeout.cancel()
            return eventLoop.makeFailedFuture(UpstreamFailure.connectFailure("cannot resolve \(address)"))
        }
        let tls = cluster.tls
        HealthProbeHandler.bootstrap(on: eventLoop, connectTimeout: config.timeout, promise: promise) { channel in
            // TLS clusters are probed over TLS too (HTTP/1.1 inside; see docs/tls.md).
            try tls?.addHandlers(to: channel, host: address.host, handshake: channel.eventLoop.makePromise())
        }
            .connect(to: target)
            .whenComplete { result in
                switch result {
                case .failure(let error): promise.fail(error)
                case .success(let channel):
                    var headers = HTTPHeaders()
                    headers.add(name: "host", value: address.description)
                    headers.add(name: "user-agent", value: "herz-health-check")
                    headers.add(name: "connection", value: "close")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: config.path, headers: headers)
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                }
            }
        return promise.futureResult
    }
}

/// Completes a one-shot HTTP/1.1 exchange's promise with the response status (or a failure if the
/// connection ends without one): the health probes' and the OTLP span exporter's.
final class HealthProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let promise: EventLoopPromise<Int>
    init(promise: EventLoopPromise<Int>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { promise.succeed(Int(head.status.code)) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}

extension HealthProbeHandler {
    /// A client bootstrap whose channels speak HTTP/1.1 and complete `promise` with the status.
    /// `secure` adds handlers below HTTP first (the TLS client of a TLS cluster).
    static func bootstrap(on eventLoop: EventLoop, connectTimeout: TimeAmount, promise: EventLoopPromise<Int>,
                          secure: (@Sendable (Channel) throws -> Void)? = nil) -> ClientBootstrap {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                do {
                    try secure?(channel)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HealthProbeHandler(promise: promise))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch { return channel.eventLoop.makeFailedFuture(error) }
            }
    }
}
