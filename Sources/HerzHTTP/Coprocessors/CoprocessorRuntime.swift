import Foundation
import Glibc
import HerzCoproc
import HerzCore
import Atomics
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
        case reconfigure([CoprocessorConfig])
        case reload(name: String, payload: String, reply: @Sendable (CoprocReloadOutcome) -> Void)
        /// Every worker switched its client of link `serial` to session `sessionId`.
        case activated(serial: Int, sessionId: UInt64)
        /// Every worker's dispatcher sends new calls to link `serial` (a reload added or changed it).
        case installed(serial: Int)
    }

    /// The configured coprocessors, in config order. Supervisor thread only (set up in `init`).
    private var links: [CoprocessorLink] = []
    /// Coprocessors removed or replaced by a reload whose sessions still drain. Supervisor thread only.
    private var retiring: [CoprocessorLink] = []
    private var nextSerial = 0
    private let workers: [Worker]
    private let metrics: [CoprocMetrics]
    /// workerDispatchers[worker]: the worker's dispatcher, which holds its clients (event-loop owned).
    private let workerDispatchers: [WorkerCoprocDispatcher]
    private let logger: Logger
    private let inbox = NIOLockedValueBox<[InboxEvent]>([])
    private let statuses = NIOLockedValueBox<[CoprocessorStatus]>([])
    /// The names of the latest configuration (`init` or `update`), readable from any thread.
    private let configuredNames = NIOLockedValueBox<Set<String>>([])
    private let running = NIOLockedValueBox<Bool>(false)
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    public init(coprocessors: [CoprocessorConfig], workers: [Worker], metrics: MetricsRegistry,
                logger: Logger) {
        self.workers = workers
        self.logger = logger
        self.metrics = workers.map { _ in CoprocMetrics(shared: metrics) }
        self.workerDispatchers = workers.map { _ in WorkerCoprocDispatcher() }
        // No thread and no stream exists yet: the dispatchers can be filled from here.
        self.links = coprocessors.map { makeLink($0) }
        for link in links {
            for (index, client) in link.clients.enumerated() { workerDispatchers[index].install(client) }
        }
        self.statuses.withLockedValue { $0 = links.map { $0.status() } }
        self.configuredNames.withLockedValue { $0 = Set(coprocessors.map(\.name)) }
    }

    /// One dispatcher per worker, keyed by the worker's event loop.
    func dispatchers() -> [ObjectIdentifier: WorkerCoprocDispatcher] {
        var result: [ObjectIdentifier: WorkerCoprocDispatcher] = [:]
        for (index, worker) in workers.enumerated() {
            result[ObjectIdentifier(worker.eventLoop)] = workerDispatchers[index]
        }
        return result
    }

    private func makeLink(_ config: CoprocessorConfig) -> CoprocessorLink {
        let clients = workers.enumerated().map { index, worker in
            WorkerCoprocClient(name: config.name, config: config, workerIndex: index, eventLoop: worker.eventLoop,
                               deadlines: worker.deadlines, metrics: metrics[index])
        }
        for client in clients { client.reporter = self }
        nextSerial += 1
        let allowed = config.allowedUIDs.isEmpty ? [getuid()] : Set(config.allowedUIDs)
        return CoprocessorLink(serial: nextSerial - 1, config: config, allowedUIDs: allowed, clients: clients)
    }

    /// Starts the supervisor thread (once; a kernel without coprocessors starts it on the first
    /// reload that configures one).
    public func start() {
        guard configuredNames.withLockedValue({ !$0.isEmpty }) else { return }
        let first = running.withLockedValue { running in
            defer { running = true }
            return !running
        }
        guard first else { return }
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

    /// Applies a reloaded `coprocessors:` list: unchanged entries keep their sessions untouched;
    /// new entries are attached; a changed entry gets a new client that takes new calls while the
    /// old one's sessions drain; removed entries drain and are then forgotten.
    public func update(_ coprocessors: [CoprocessorConfig]) {
        configuredNames.withLockedValue { $0 = Set(coprocessors.map(\.name)) }
        inbox.withLockedValue { $0.append(.reconfigure(coprocessors)) }
        start()
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
            let dispatcher = workerDispatchers[index]
            let figures = try? worker.eventLoop.submit {
                dispatcher.clients.values.map { ($0.name, $0.inFlight, $0.queued, $0.ringOccupancy) }
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
        guard configuredNames.withLockedValue({ $0.contains(name) }) else { return false }
        inbox.withLockedValue { $0.append(.drain(name: name)) }
        return true
    }

    /// `herzctl coproc reload NAME`: asks the coprocessor's active session to reload its own
    /// configuration and keys (control message `reload`) and waits up to `timeout` for its answer.
    /// Blocks the calling thread (the admin queue), never an event loop.
    public func reloadCoprocessor(name: String, payload: String = "", timeout: TimeAmount = .seconds(5)) -> CoprocReloadOutcome {
        guard configuredNames.withLockedValue({ $0.contains(name) }) else { return .noSuchCoprocessor }
        let answer = NIOLockedValueBox<CoprocReloadOutcome?>(nil)
        let done = DispatchSemaphore(value: 0)
        inbox.withLockedValue {
            $0.append(.reload(name: name, payload: payload, reply: { outcome in
                answer.withLockedValue { $0 = $0 ?? outcome }
                done.signal()
            }))
        }
        guard done.wait(timeout: .now() + .nanoseconds(Int(timeout.nanoseconds))) == .success else { return .timedOut }
        return answer.withLockedValue { $0 } ?? .timedOut
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
        for link in links + retiring {
            for id in Array(link.sessions.keys) { perform([.close(sessionId: id, reason: .down)], on: link) }
            forEachClient(of: link) { $0.shutdown() }
        }
    }

    private func pollOnce(timeoutMillis: Int) {
        var sockets: [ZMQSocket] = []
        var socketOwners: [(CoprocessorLink, UInt64)] = []
        var fds: [Int32] = []
        var fdOwners: [(CoprocessorLink, UInt64)] = []
        for link in links + retiring {
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
            case .violation(_, let id, let detail):
                if let link = link(owning: id) { perform(link.supervisor.violation(sessionId: id, detail: detail, now: Self.now()), on: link) }
            case .peerGone(_, let id):
                if let link = link(owning: id) { perform(link.supervisor.peerGone(sessionId: id, now: Self.now()), on: link) }
            case .drain(let name):
                if let link = links.first(where: { $0.config.name == name }) { perform(link.supervisor.operatorDrain(), on: link) }
            case .reconfigure(let configs):
                reconfigure(configs)
            case .activated(let serial, let id):
                guard let link = (links + retiring).first(where: { $0.serial == serial }), link.activating == id else { continue }
                link.workersHaveSession = link.supervisor.activeSessionId != nil
                // No worker writes to the sessions being drained any more: now they may drain.
                link.activating = nil
                for drain in link.deferredDrains where link.sessions[drain] != nil {
                    send(.drain(deadlineMillis: 5000), link: link, sessionId: drain)
                }
                link.deferredDrains.removeAll()
            case .installed(let serial):
                // The replaced link gets no new calls any more: it may drain.
                for old in links + retiring where old.replacedBy == serial {
                    old.replacedBy = nil
                    retire(old)
                }
            case .reload(let name, let payload, let reply):
                guard let link = links.first(where: { $0.config.name == name }), let active = link.supervisor.activeSessionId else {
                    reply(.notAttached)
                    continue
                }
                link.pendingReloads.append((active, reply))
                send(.reload(payload: payload), link: link, sessionId: active)
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
        for link in links + retiring {
            perform(link.supervisor.tick(now: now, socketInode: link.socketInode()), on: link)
            if now &- link.lastStatsRequest > 1_000_000_000, let active = link.supervisor.activeSessionId {
                link.lastStatsRequest = now
                send(.statsRequest, link: link, sessionId: active)
            }
        }
        forgetRetired()
        statuses.withLockedValue { $0 = links.map { $0.status() } }
    }

    /// The link whose session `sessionId` is (session ids never repeat across links).
    private func link(owning sessionId: UInt64) -> CoprocessorLink? {
        (links + retiring).first { $0.sessions[sessionId] != nil || $0.supervisor.session(sessionId) != nil }
    }

    private func reconfigure(_ configs: [CoprocessorConfig]) {
        let current = Dictionary(links.map { ($0.config.name, $0) }, uniquingKeysWith: { first, _ in first })
        var next: [CoprocessorLink] = []
        for config in configs {
            let existing = current[config.name]
            if let existing, existing.config == config {
                next.append(existing)
                continue
            }
            let link = makeLink(config)
            next.append(link)
            // A changed entry's old link drains only once no worker sends it new calls.
            existing?.replacedBy = link.serial
            onEveryWorker(of: link, { [workerDispatchers] client in workerDispatchers[client.workerIndex].install(client) },
                          then: .installed(serial: link.serial))
            logger.info("coprocessor \(config.name): \(existing == nil ? "added" : "changed") by a reload")
        }
        let kept = Set(next.map(ObjectIdentifier.init))
        for link in links where !kept.contains(ObjectIdentifier(link)) {
            retiring.append(link)
            if link.replacedBy == nil { retire(link) }
        }
        links = next
    }

    private func retire(_ link: CoprocessorLink) {
        perform(link.supervisor.retire(now: Self.now()), on: link)
    }

    /// Retired links whose sessions are all gone leave their workers' dispatchers.
    private func forgetRetired() {
        retiring.removeAll { link in
            guard link.replacedBy == nil, link.sessions.isEmpty, link.supervisor.sessions.isEmpty else { return false }
            forEachClient(of: link) { [workerDispatchers] client in
                workerDispatchers[client.workerIndex].remove(client)
                client.shutdown()
            }
            return true
        }
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
                logger.log(level: ok ? .info : .error, "coprocessor \(link.config.name) reload: \(ok ? "ok" : "failed"): \(text)")
                if let index = link.pendingReloads.firstIndex(where: { $0.sessionId == sessionId }) {
                    link.pendingReloads.remove(at: index).reply(.answered(ok: ok, message: text))
                }
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
                link.activating = id
                onEveryWorker(of: link, { $0.activate(session) }, then: .activated(serial: link.serial, sessionId: id))
            case .deactivate(let reason):
                link.workersHaveSession = false
                forEachClient(of: link) { $0.deactivate(reason: reason) }
            case .drain(let id):
                // Told to drain while workers may still write to it, a session could answer
                // `drained` before their last calls arrive: wait for the switch to finish.
                if link.activating != nil {
                    link.deferredDrains.append(id)
                } else {
                    send(.drain(deadlineMillis: 5000), link: link, sessionId: id)
                }
            case .close(let id, let reason):
                for pending in link.pendingReloads where pending.sessionId == id { pending.reply(.sessionClosed(reason.rawValue)) }
                link.pendingReloads.removeAll { $0.sessionId == id }
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
        for (client, worker) in zip(link.clients, workers) {
            worker.eventLoop.execute { body(client) }
        }
    }

    /// Runs `body` on every worker's client of `link`, then posts `event` to the supervisor once
    /// the last worker ran it.
    private func onEveryWorker(of link: CoprocessorLink, _ body: @escaping (WorkerCoprocClient) -> Void, then event: InboxEvent) {
        let remaining = ManagedAtomic<Int>(workers.count)
        let inbox = self.inbox
        for (client, worker) in zip(link.clients, workers) {
            worker.eventLoop.execute {
                body(client)
                if remaining.loadThenWrappingDecrement(ordering: .acquiringAndReleasing) == 1 {
                    inbox.withLockedValue { $0.append(event) }
                }
            }
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
            let region = try SharedRegion.create(workers: UInt32(workers.count), ringBytes: UInt32(link.config.ringBytes), name: "herz-\(link.config.name)")
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

/// What became of `herzctl coproc reload NAME`.
public enum CoprocReloadOutcome: Sendable, Equatable {
    case answered(ok: Bool, message: String)
    case noSuchCoprocessor
    case notAttached
    case sessionClosed(String)
    case timedOut
}

struct CoprocAttachError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
