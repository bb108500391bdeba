import Atomics
import Foundation
import HerzCore
import HerzCoprocFilter
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import HerzQUIC

/// The running proxy: worker event loops, bound listeners, the admin server, and the one path by
/// which a new config gets in (validate whole → compile snapshot → hand to every worker).
///
/// Thread safety: public methods may be called from any thread (signal handlers, the admin
/// server); they serialise on an internal lock and never block an event loop.
public final class HerzKernel: @unchecked Sendable {
    public let logger: Logger
    public let metrics: MetricsRegistry
    let group: MultiThreadedEventLoopGroup
    /// OTLP span export for `tracing:` (idle when it is off); reconfigured on reload.
    public let spanExporter: OTLPSpanExporter
    let adminGroup: MultiThreadedEventLoopGroup
    let workers: [Worker]
    /// Supervises the configured coprocessors (plus `--coproc` flags; reloads change the list) and carries calls.
    public let coprocessors: CoprocessorRuntime
    private let coprocDispatchers = KernelCoprocDispatchers()
    /// The flow rules in force and the local limits' state, shared by every worker (HerzKernel+FlowControl).
    public let flowControl: FlowControlEngine
    /// The flow-rules file in force (HerzKernel+FlowControl); a change reloads the config.
    let flowRulesWatcher: FileSetWatcher
    /// Certificate/key/CA files in force (HerzKernel+TLS).
    let tlsWatcher = FileSetWatcher(queue: AdminHandler.queue)
    private let filters: FilterFactoryRegistry
    private let extraCoprocessors: [CoprocessorConfig]
    let configPath: String?
    private let lock = NIOLock()
    private var snapshot: ConfigSnapshot
    private var boundListeners: [String: BoundListener] = [:]
    private var adminChannel: Channel?
    private var healthCheckers: [String: ActiveHealthChecker] = [:]
    /// Flow breakers and dynamic weights of the rules' `cluster` blocks; outlives every snapshot.
    let flowClusters: FlowClusterRegistry
    private let quiesce: ServerQuiescingHelper
    private(set) var lastReloadError: String?
    private let startedAt = Date()
    public let ready = ManagedAtomic<Bool>(false)

    /// A listener bound on every worker (one SO_REUSEPORT socket per worker).
    final class BoundListener {
        let config: ListenerConfig
        var channels: [Channel] = []
        /// Swapped on reload so new TLS handshakes use new certificates.
        let tlsContext: NIOLockedValueBox<NIOSSLContext?>
        /// `protocol: quic`: the workers' endpoints and the certificate slot they take new
        /// connections' credentials from (HerzKernel+QUIC).
        var quicGroup: QUICEndpointGroup?
        var quicCredentials: QUICCredentialSlot?
        init(config: ListenerConfig, tls: NIOSSLContext?) {
            self.config = config
            self.tlsContext = NIOLockedValueBox(tls)
        }
    }

    /// `extraCoprocessors`: the `--coproc` flags, merged into every config this kernel loads.
    public init(config: HerzConfig, configPath: String?, workerCount: Int, extraCoprocessors: [CoprocessorConfig] = [],
                logger: Logger) throws {
        self.logger = logger
        self.configPath = configPath
        self.extraCoprocessors = extraCoprocessors
        let metrics = MetricsRegistry()
        self.metrics = metrics
        var filters = FilterFactoryRegistry()
        filters.registerCoproc(dispatchers: coprocDispatchers)
        filters.registerFault(metrics: metrics.traffic)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, workerCount))
        let flowGlobals = FlowWorkerGlobals()
        flowGlobals.install(eventLoops: Array(group.makeIterator()))
        let flowControl = FlowControlEngine(program: Self.flowProgram(config, generation: 1, previous: nil), globals: flowGlobals)
        self.flowControl = flowControl
        filters.registerFlowControl(engine: flowControl)
        self.filters = filters
        self.flowRulesWatcher = FileSetWatcher(queue: AdminHandler.queue)
        let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.adminGroup = adminGroup
        self.quiesce = ServerQuiescingHelper(group: group)
        let snapshot = try ConfigSnapshot(config: config, generation: 1, previous: nil, filters: filters)
        self.snapshot = snapshot
        let spanExporter = OTLPSpanExporter(eventLoop: adminGroup.next(), logger: logger)
        spanExporter.configure(config.tracing)
        self.spanExporter = spanExporter
        var workers: [Worker] = []
        for (index, loop) in group.makeIterator().enumerated() {
            let worker = Worker(index: index, eventLoop: loop, snapshot: snapshot, logger: logger,
                                metrics: HerzMetrics(shared: metrics))
            if let accessLog = config.accessLog { worker.accessLog = AccessLogger(config: accessLog, eventLoop: loop) }
            worker.spanExporter = spanExporter
            workers.append(worker)
        }
        let flowClusters = FlowClusterRegistry(logger: logger)
        flowClusters.apply(config.flowControl?.rules.clusters ?? [], clusters: snapshot.clusters)
        for worker in workers { worker.flowClusters = flowClusters }
        self.flowClusters = flowClusters
        self.workers = workers
        self.coprocessors = CoprocessorRuntime(coprocessors: config.coprocessors, workers: workers, metrics: metrics, logger: logger)
        coprocDispatchers.install(coprocessors.dispatchers())
    }

    public var currentSnapshot: ConfigSnapshot { lock.withLock { snapshot } }

    /// Runs `body` with the bound listeners under the kernel lock.
    func withBoundListeners<T>(_ body: ([String: BoundListener]) -> T) -> T { lock.withLock { body(boundListeners) } }

    // MARK: start

    public func start() throws {
        try lock.withLock {
            for listener in snapshot.config.listeners {
                boundListeners[listener.name] = try bind(listener)
            }
            if let admin = snapshot.config.admin {
                adminChannel = try AdminServer(kernel: self).bind(admin.address, group: adminGroup)
            }
            startHealthCheckers(snapshot)
        }
        flowClusters.start(on: adminGroup.next())
        startFlowRulesWatcher()
        startTLSWatcher()
        coprocessors.start()
        ready.store(true, ordering: .releasing)
        for listener in snapshot.config.listeners {
            logger.info("listening", metadata: ["listener": "\(listener.name)", "address": "\(listener.address)", "protocol": "\(listener.protocol.rawValue)"])
        }
    }

    private func bind(_ listener: ListenerConfig) throws -> BoundListener {
        if listener.protocol == .quic { return try bindQUIC(listener) }
        let tls = try listener.tls.map { try DownstreamTLS.makeContext($0) }
        let bound = BoundListener(config: listener, tls: tls)
        for worker in workers {
            let quiesce = self.quiesce
            let metrics = self.metrics
            let channel = try ServerBootstrap(group: worker.eventLoop)
                .serverChannelOption(ChannelOptions.backlog, value: 1024)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.Types.SocketOption(level: .init(rawValue: SOL_SOCKET), name: .init(rawValue: SO_REUSEPORT)), value: 1)
                .serverChannelInitializer { channel in
                    channel.pipeline.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
                .childChannelInitializer { channel in
                    metrics.activeConnections.wrappingIncrement(ordering: .relaxed)
                    channel.closeFuture.whenComplete { _ in metrics.activeConnections.wrappingDecrement(ordering: .relaxed) }
                    let config = worker.snapshot.listeners[listener.name]?.config ?? listener
                    if let tls = bound.tlsContext.withLockedValue({ $0 }) {
                        return DownstreamPipeline.configureTLS(channel, worker: worker, listener: config, tls: tls)
                    }
                    do {
                        try DownstreamPipeline.configureCleartext(channel, worker: worker, listener: config)
                        return channel.eventLoop.makeSucceededVoidFuture()
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
                .bind(host: listener.address.host, port: listener.address.port)
                .wait()
            bound.channels.append(channel)
        }
        return bound
    }

    // MARK: reload

    /// Reloads from the config file given at start (SIGHUP, `POST /reload`). On any error the
    /// running config stays in place and the error (with `file:line:col`) is returned and recorded.
    @discardableResult
    public func reload() -> Result<Int, Error> {
        guard let configPath else {
            return .failure(ReloadError.noConfigFile)
        }
        do {
            let config = try ConfigLoader.load(path: configPath, extraCoprocessors: extraCoprocessors)
            let generation = try apply(config)
            metrics.reloadsOK.wrappingIncrement(ordering: .relaxed)
            lock.withLock { lastReloadError = nil }
            logger.info("config reloaded", metadata: ["generation": "\(generation)", "file": "\(configPath)"])
            return .success(generation)
        } catch {
            noteFlowReloadFailure(error)
            metrics.reloadsFailed.wrappingIncrement(ordering: .relaxed)
            lock.withLock { lastReloadError = "\(error)" }
            logger.error("config reload rejected; the previous config keeps serving\n\(error)")
            return .failure(error)
        }
    }

    public enum ReloadError: Error, CustomStringConvertible {
        case noConfigFile
        case listenerChanged(String)
        public var description: String {
            switch self {
            case .noConfigFile: return "no --config file to reload (running on built-in defaults)"
            case .listenerChanged(let why): return why
            }
        }
    }

    /// Validates and installs a whole config; returns its generation.
    public func apply(_ config: HerzConfig) throws -> Int {
        try lock.withLock {
            let next = try ConfigSnapshot(config: config, generation: snapshot.generation + 1, previous: snapshot, filters: filters)
            // Reused clusters keep their TLS contexts: reread their files as a reload promises.
            for cluster in next.clusters.values where cluster.tls != nil && snapshot.clusters[cluster.config.name] === cluster {
                try cluster.tls?.reloadFiles()
            }
            // Listener sockets and certificates: bind new sockets and load every certificate first,
            // so that any failure rejects the whole reload with nothing changed (new sockets
            // closed); then swap certificates and the snapshot, then close removed listeners.
            var newBound: [String: BoundListener] = [:]
            var certificateSwaps: [() -> Void] = []
            do {
                for listener in config.listeners {
                    guard let existing = boundListeners[listener.name] else {
                        newBound[listener.name] = try bind(listener)
                        continue
                    }
                    guard existing.config.address == listener.address, existing.config.protocol == listener.protocol else {
                        throw ReloadError.listenerChanged("listener \(listener.name): address or protocol changed; give it a new name to move it")
                    }
                    if listener.protocol == .quic, existing.config.tls != listener.tls, let tls = listener.tls {
                        let credentials = try loadQUICCertificate(tls)
                        certificateSwaps.append { existing.quicCredentials?.replace(with: credentials) }
                    }
                    if listener.protocol == .quic, existing.config.quic != listener.quic {
                        logger.warning("quic listener keeps its running quic: settings until restart (docs/http3.md)",
                                       metadata: ["listener": "\(listener.name)"])
                    }
                    if listener.protocol == .https {
                        // Always rebuilt: the files may have changed even when the paths did not.
                        let tls = try listener.tls.map { try DownstreamTLS.makeContext($0) }
                        certificateSwaps.append { existing.tlsContext.withLockedValue { $0 = tls } }
                    }
                }
            } catch {
                for bound in newBound.values { for channel in bound.channels { channel.close(promise: nil) } }
                throw error
            }
            for swap in certificateSwaps { swap() }
            let previous = snapshot
            snapshot = next
            flowClusters.apply(config.flowControl?.rules.clusters ?? [], clusters: next.clusters)
            for worker in workers { worker.eventLoop.execute { worker.install(next) } }
            applyFlowControl(config, previous: previous.config)
            let keep = Set(config.listeners.map(\.name))
            for (name, bound) in boundListeners where !keep.contains(name) {
                if bound.quicGroup != nil {
                    retireQUIC(bound, within: config.drainTimeout)
                } else {
                    for channel in bound.channels { channel.close(promise: nil) }
                }
                boundListeners[name] = nil
            }
            boundListeners.merge(newBound) { $1 }
            coprocessors.update(config.coprocessors)
            spanExporter.configure(config.tracing)
            startHealthCheckers(next)
            tlsWatcher.watch(Self.tlsFiles(next))
            return next.generation
        }
    }

    // MARK: health checks

    private func startHealthCheckers(_ snapshot: ConfigSnapshot) {
        var next: [String: ActiveHealthChecker] = [:]
        for (name, shared) in snapshot.clusters where shared.config.healthCheck != nil {
            if let existing = healthCheckers[name], existing.cluster === shared {
                next[name] = existing
            } else {
                let checker = ActiveHealthChecker(cluster: shared, eventLoop: workers[0].eventLoop, logger: logger)
                checker.start()
                next[name] = checker
            }
        }
        for (name, checker) in healthCheckers where next[name] !== checker { checker.stop() }
        healthCheckers = next
    }

    // MARK: drain and stop

    /// Stops accepting, lets in-flight requests finish (HTTP/1.1 `connection: close`, HTTP/2
    /// GOAWAY) for up to `drain_timeout`, then closes everything. Completes when all is closed.
    public func drainAndStop() {
        ready.store(false, ordering: .releasing)
        let timeout = currentSnapshot.config.drainTimeout
        logger.info("draining", metadata: ["timeout": "\(timeout)"])
        let done = group.next().makePromise(of: Void.self)
        let drained = DispatchSemaphore(value: 0)
        done.futureResult.whenComplete { _ in drained.signal() }
        quiesce.initiateShutdown(promise: done)
        let listeners = lock.withLock { Array(boundListeners.values) }
        drainQUIC(listeners)
        let deadline = DispatchTime.now() + .nanoseconds(Int(timeout.nanoseconds))
        // The quiescing helper only completes once it has seen a TCP listener.
        let tcpDrained = !listeners.contains { $0.quicGroup == nil } || drained.wait(timeout: deadline) == .success
        if !tcpDrained || !waitForQUICDrain(listeners.compactMap(\.quicGroup), until: deadline) {
            logger.warning("drain timeout reached; closing remaining connections")
        }
        lock.withLock {
            for checker in healthCheckers.values { checker.stop() }
            healthCheckers.removeAll()
        }
        coprocessors.shutdown()
        flowClusters.stop()
        flowRulesWatcher.stop()
        for worker in workers {
            try? worker.eventLoop.submit {
                self.flowControl.globals.current?.shutdown()
                worker.accessLog?.flush()
                worker.shutdownClusters()
            }.wait()
        }
        try? adminChannel?.close().wait()
        try? group.syncShutdownGracefully()
        try? adminGroup.syncShutdownGracefully()
        logger.info("stopped")
    }

    // MARK: admin views

    /// What `/status` and `herzctl status` report.
    struct Status: Encodable {
        let ready: Bool
        let version: String
        let configGeneration: Int
        let configSource: String
        let listeners: [String]
        let clusters: [String]
        let reloads: Int
        let reloadFailures: Int
        let lastReloadError: String?
        let uptimeSeconds: Int
    }

    func status() -> Status {
        lock.withLock {
            Status(ready: ready.load(ordering: .acquiring), version: HerzVersion.string, configGeneration: snapshot.generation,
                   configSource: snapshot.config.source, listeners: snapshot.config.listeners.map(\.name),
                   clusters: snapshot.config.clusters.map(\.name), reloads: metrics.reloadsOK.load(ordering: .relaxed),
                   reloadFailures: metrics.reloadsFailed.load(ordering: .relaxed), lastReloadError: lastReloadError,
                   uptimeSeconds: Int(Date().timeIntervalSince(startedAt)))
        }
    }
}
