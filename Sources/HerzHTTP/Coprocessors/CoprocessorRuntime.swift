import Foundation
import Glibc
import HerzCoproc
import HerzCore
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The kernel's coprocessor runtime: one supervisor thread that attaches sessions, runs the
/// ZeroMQ control conversations and the supervision state machines, plus one
/// ``WorkerCoprocClient`` per worker and coprocessor that carries the calls on the rings.
///
/// Guarantees: the kernel keeps serving whatever its coprocessors do (a coprocessor that is down,
/// hung, refused or misbehaving only affects the calls made to it, through its `on_failure`
/// policy); session changes reach every worker on its own event loop; no lock is taken on the
/// call path. The supervisor thread is the only owner of sockets and state machines.
public final class CoprocessorRuntime: CoprocSessionReporter, @unchecked Sendable {
    private enum InboxEvent {
        case violation(name: String, sessionId: UInt64, detail: String)
        case peerGone(name: String, sessionId: UInt64)
        case drain(name: String)
    }

    public static let defaultRingBytes: UInt32 = 256 * 1024
    private let links: [CoprocessorLink]
    private let workers: [Worker]
    /// clients[worker][link.index]; each touched only on its worker's event loop.
    private let clients: [[WorkerCoprocClient]]
    private let ringBytes: UInt32
    private let logger: Logger
    private let inbox = NIOLockedValueBox<[InboxEvent]>([])
    private let statuses = NIOLockedValueBox<[CoprocessorStatus]>([])
    private let running = NIOLockedValueBox<Bool>(false)
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    public init(coprocessors: [CoprocessorConfig], workers: [Worker], metrics: MetricsRegistry,
                ringBytes: UInt32 = CoprocessorRuntime.defaultRingBytes, logger: Logger) {
        let uid = getuid()
        self.links = coprocessors.enumerated().map { index, config in
            CoprocessorLink(index: index, config: config, allowedUIDs: config.allowedUIDs.isEmpty ? [uid] : Set(config.allowedUIDs))
        }
        self.workers = workers
        self.ringBytes = ringBytes
        self.logger = logger
        var clients: [[WorkerCoprocClient]] = []
        for (workerIndex, worker) in workers.enumerated() {
            let workerMetrics = CoprocMetrics(shared: metrics)
            clients.append(coprocessors.map { config in
                WorkerCoprocClient(name: config.name, config: config, workerIndex: workerIndex, eventLoop: worker.eventLoop,
                                   deadlines: worker.deadlines, metrics: workerMetrics)
            })
        }
        self.clients = clients
        for row in clients { for client in row { client.reporter = self } }
        self.statuses.withLockedValue { $0 = links.map { $0.status() } }
    }

    /// One dispatcher per worker, keyed by the worker's event loop.
    func dispatchers() -> [ObjectIdentifier: WorkerCoprocDispatcher] {
        var result: [ObjectIdentifier: WorkerCoprocDispatcher] = [:]
        for (index, worker) in workers.enumerated() {
            result[ObjectIdentifier(worker.eventLoop)] = WorkerCoprocDispatcher(
                clients: Dictionary(uniqueKeysWithValues: clients[index].map { ($0.name, $0) }))
        }
        return result
    }

    public var isEmpty: Bool { links.isEmpty }

    public func start() {
        guard !links.isEmpty else { return }
        running.withLockedValue { $0 = true }
        let thread = Thread { [self] in
            self.run()
            self.stopped.signal()
        }
        thread.name = "herz-coproc-supervisor"
        self.thread = thread
        thread.start()
    }

    /// Stops the supervisor thread and closes every session (in-flight calls get their policy).
    public func shutdown() {
        guard thread != nil else { return }
        running.withLockedValue { $0 = false }
        stopped.wait()
        thread = nil
    }

    public func status() -> [CoprocessorStatus] {
        statuses.withLockedValue { $0 }
    }

    /// Kernel-side figures of one coprocessor summed over workers.
    public struct WorkerFigures: Sendable {
        public var inFlight = 0
        public var queued = 0
        public var ringOccupancy = 0
    }

    /// Asks every worker for its figures (blocks the calling thread, never an event loop).
    public func workerFigures() -> [String: WorkerFigures] {
        var sums: [String: WorkerFigures] = [:]
        for (index, worker) in workers.enumerated() {
            let row = clients[index]
            let figures = try? worker.eventLoop.submit {
                row.map { ($0.name, $0.inFlight, $0.queued, $0.ringOccupancy) }
            }.wait()
            for (name, inFlight, queued, ring) in figures ?? [] {
                sums[name, default: WorkerFigures()].inFlight += inFlight
                sums[name, default: WorkerFigures()].queued += queued
                sums[name, default: WorkerFigures()].ringOccupancy += ring
            }
        }
        return sums
    }

    /// `herzctl coproc drain NAME`; false when no such coprocessor exists.
    public func requestDrain(name: String) -> Bool {
        guard links.contains(where: { $0.config.name == name }) else { return false }
        inbox.withLockedValue { $0.append(.drain(name: name)) }
        return true
    }

    func violation(name: String, sessionId: UInt64, detail: String) {
        inbox.withLockedValue { $0.append(.violation(name: name, sessionId: sessionId, detail: detail)) }
    }

    func peerGone(name: String, sessionId: UInt64) {
        inbox.withLockedValue { $0.append(.peerGone(name: name, sessionId: sessionId)) }
    }

    // MARK: - Supervisor thread

    private func run() {
        while running.withLockedValue({ $0 }) {
            pollOnce(timeoutMillis: 5)
        }
        for link in links {
            for id in Array(link.sessions.keys) { perform([.close(sessionId: id, reason: .down)], on: link) }
        }
        for (index, worker) in workers.enumerated() {
            let row = clients[index]
            worker.eventLoop.execute { row.forEach { $0.shutdown() } }
        }
    }

    private func pollOnce(timeoutMillis: Int) {
        var sockets: [ZMQSocket] = []
        var socketOwners: [(CoprocessorLink, UInt64)] = []
        var fds: [Int32] = []
        var fdOwners: [(CoprocessorLink, UInt64)] = []
        for link in links {
            for (id, io) in link.sessions {
                if let control = io.control { sockets.append(control); socketOwners.append((link, id)) }
                if let attach = io.attach, attach.fd >= 0 { fds.append(attach.fd); fdOwners.append((link, id)) }
            }
        }
        let ready: ZMQPoller.Ready
        do {
            ready = try ZMQPoller.poll(sockets: sockets, fds: fds, timeoutMillis: timeoutMillis)
        } catch {
            logger.error("coprocessor supervisor: poll failed: \(error)")
            usleep(UInt32(timeoutMillis * 1000))
            return
        }
        // Workers report violations before they close their end, so the report is read before the
        // resulting EOF: the session ends as a protocol failure, not as a crash.
        for event in inbox.withLockedValue({ events in defer { events.removeAll() }; return events }) {
            switch event {
            case .violation(let name, let id, let detail):
                if let link = link(named: name) { perform(link.supervisor.violation(sessionId: id, detail: detail, now: Self.now()), on: link) }
            case .peerGone(let name, let id):
                if let link = link(named: name) { perform(link.supervisor.peerGone(sessionId: id, now: Self.now()), on: link) }
            case .drain(let name):
                if let link = link(named: name) { perform(link.supervisor.operatorDrain(), on: link) }
            }
        }
        for (index, isReady) in ready.sockets.enumerated() where isReady {
            let (link, id) = socketOwners[index]
            receiveControl(link: link, sessionId: id)
        }
        for (index, isReady) in ready.fds.enumerated() where isReady {
            let (link, id) = fdOwners[index]
            guard let attach = link.sessions[id]?.attach else { continue }
            if attach.peerClosed() {
                perform(link.supervisor.peerGone(sessionId: id, now: Self.now()), on: link)
            } else {
                // Nothing may follow attachAck on this socket; readable bytes would wake us forever.
                perform(link.supervisor.violation(sessionId: id, detail: "unexpected bytes on the attach socket", now: Self.now()), on: link)
            }
        }
        let now = Self.now()
        for link in links {
            perform(link.supervisor.tick(now: now, socketInode: link.socketInode()), on: link)
            if now &- link.lastStatsRequest > 1_000_000_000, let active = link.supervisor.activeSessionId {
                link.lastStatsRequest = now
                send(.statsRequest, link: link, sessionId: active)
            }
        }
        statuses.withLockedValue { $0 = links.map { $0.status() } }
    }

    private func link(named name: String) -> CoprocessorLink? {
        links.first { $0.config.name == name }
    }

    private func receiveControl(link: CoprocessorLink, sessionId: UInt64) {
        guard let control = link.sessions[sessionId]?.control else { return }
        while link.sessions[sessionId] != nil, let frame = try? control.receive() {
            let message: ControlMessage
            do {
                message = try frame.withUnsafeBytes { try WireCodec.decodeControl($0) }
            } catch {
                perform(link.supervisor.violation(sessionId: sessionId, detail: "undecodable control message (\(error))", now: Self.now()), on: link)
                return
            }
            let now = Self.now()
            switch message {
            case .hello(let hello):
                perform(link.supervisor.helloReceived(sessionId: sessionId, hello: hello, now: now), on: link)
            case .refuse(let reason):
                perform(link.supervisor.refused(sessionId: sessionId, reason: reason, now: now), on: link)
            case .heartbeatAck(let sequence, _):
                perform(link.supervisor.heartbeatAck(sessionId: sessionId, sequence: sequence, now: now), on: link)
            case .drained:
                perform(link.supervisor.drained(sessionId: sessionId, now: now), on: link)
            case .stats(let stats):
                link.stats = stats
            case .reloadResult(let ok, let text):
                logger.info("coprocessor \(link.config.name) reload: \(ok ? "ok" : "failed") \(text)")
            case .heartbeat, .drain, .statsRequest, .reload:
                break
            }
        }
    }

    private func send(_ message: ControlMessage, link: CoprocessorLink, sessionId: UInt64) {
        guard let control = link.sessions[sessionId]?.control else { return }
        do {
            try control.send(WireCodec.encode(message))
        } catch {
            logger.warning("coprocessor \(link.config.name): control send failed: \(error)")
        }
    }

    /// Executes supervisor actions in order, feeding results (attach outcomes) back as events.
    private func perform(_ actions: [SupervisorAction], on link: CoprocessorLink) {
        var queue = actions[...]
        while let action = queue.popFirst() {
            switch action {
            case .attach(let id):
                queue.append(contentsOf: attach(link: link, sessionId: id))
            case .sendHello(let id):
                send(.hello(Hello(name: link.config.name, buildVersion: HerzVersion.string, capabilities: ["kernel"],
                                  pid: UInt32(getpid()), sessionId: id)), link: link, sessionId: id)
            case .sendHeartbeat(let id, let sequence):
                send(.heartbeat(sequence: sequence, sentNanos: Self.now()), link: link, sessionId: id)
            case .activate(let id):
                guard let session = link.sessions[id]?.session else { continue }
                forEachClient(of: link) { $0.activate(session) }
            case .deactivate(let reason):
                forEachClient(of: link) { $0.deactivate(reason: reason) }
            case .drain(let id):
                send(.drain(deadlineMillis: 5000), link: link, sessionId: id)
            case .close(let id, let reason):
                guard let io = link.sessions.removeValue(forKey: id) else { continue }
                forEachClient(of: link) { $0.close(sessionId: id, reason: reason) }
                io.control?.close()
                io.attach?.close()
            case .refuse(let id, let reason):
                send(.refuse(reason: reason), link: link, sessionId: id)
            case .log(let level, let text):
                switch level {
                case .info: logger.info("\(text)")
                case .warning: logger.warning("\(text)")
                case .error: logger.error("\(text)")
                }
            }
        }
    }

    private func forEachClient(of link: CoprocessorLink, _ body: @escaping (WorkerCoprocClient) -> Void) {
        for (index, worker) in workers.enumerated() {
            let client = clients[index][link.index]
            worker.eventLoop.execute { body(client) }
        }
    }

    /// Connects, checks the peer's uid, sends the region and doorbells, reads the ack, connects
    /// the control socket. Blocking with short timeouts: it runs on the supervisor thread only.
    private func attach(link: CoprocessorLink, sessionId: UInt64) -> [SupervisorAction] {
        let now = Self.now()
        let inode = link.socketInode()
        var socket: AttachSocket?
        do {
            let attach = try AttachSocket.connect(path: link.path)
            socket = attach
            try attach.setTimeout(millis: 500)
            let peer = try attach.peerCredentials()
            guard link.allowedUIDs.contains(peer.uid) else {
                throw CoprocAttachError("peer uid \(peer.uid) (pid \(peer.pid)) is not allowed (allowed_uids: \(link.allowedUIDs.sorted()))")
            }
            let region = try SharedRegion.create(workers: UInt32(workers.count), ringBytes: ringBytes, name: "herz-\(link.config.name)")
            var kernelEnds: [Doorbell] = []
            var peerEnds: [Doorbell] = []
            for _ in workers {
                let (kernelEnd, peerEnd) = try Doorbell.pair()
                kernelEnds.append(kernelEnd)
                peerEnds.append(peerEnd)
            }
            try attach.send(WireCodec.encode(AttachFrame.attach(sessionId: sessionId, layout: region.layout)),
                            fds: [region.fd] + peerEnds.map(\.fd))
            peerEnds.forEach { $0.close() }
            let (bytes, _) = try attach.receive(limit: 64 * 1024) { try WireCodec.framedLength($0, limit: 64 * 1024) }
            guard case .attachAck(let ack) = try bytes.withUnsafeBytes({ try WireCodec.decodeAttachFrame($0) }) else {
                throw CoprocAttachError("expected attachAck")
            }
            guard ack.sessionId == sessionId else { throw CoprocAttachError("attachAck for session \(ack.sessionId)") }
            guard ack.ok else { throw CoprocAttachError("coprocessor could not attach: \(ack.error)") }
            let control = try ZMQSocket(.dealer)
            try control.connect(ack.controlEndpoint)
            let io = CoprocessorLink.SessionIO()
            io.attach = attach
            io.control = control
            io.session = KernelCoprocSession(name: link.config.name, sessionId: sessionId, region: region,
                                             doorbellFDs: kernelEnds.map { $0.release() })
            link.sessions[sessionId] = io
            return link.supervisor.attached(sessionId: sessionId, socketInode: inode, now: now)
        } catch {
            socket?.close()
            return link.supervisor.attachFailed(sessionId: sessionId, error: "\(error)", now: now)
        }
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}

struct CoprocAttachError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
