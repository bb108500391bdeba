/// The supervision state machine of one configured coprocessor (docs/coprocessor-protocol.md
/// sections 2, 5, 6 and 7): it decides when to attach, which session takes new calls, when a session
/// is hung, when to upgrade to a newly started build, and how long to back off after failures.
///
/// Pure: events in, ``SupervisorAction``s out; times are CLOCK_MONOTONIC nanoseconds passed in by
/// the caller. Owned by the kernel's supervisor thread, which executes the actions.
public struct CoprocSupervisor: Sendable {
    public let name: String
    public let timing: SupervisorTiming
    /// Sessions that exist (any phase), oldest first.
    public private(set) var sessions: [CoprocSessionState] = []
    /// The session that takes new calls, if any.
    public private(set) var activeSessionId: UInt64?
    /// Sessions that ended after having been ready (crashes, hangs, violations): the restart count.
    public private(set) var sessionsLost: UInt64 = 0
    /// Successful handshakes, the first included.
    public private(set) var handshakes: UInt64 = 0
    public private(set) var lastError: String?
    /// Set by ``retire(now:)``: no new session is ever attached; the supervisor is done once
    /// `sessions` is empty.
    public private(set) var retired = false

    private var nextSessionId: UInt64
    private var backoff: UInt64
    private var nextAttemptAt: UInt64 = 0
    private var recycleRequested = false
    private var lastTick: UInt64?

    /// `firstSessionId` lets several supervisors hand out ids that never collide (e.g. index << 32).
    public init(name: String, timing: SupervisorTiming = SupervisorTiming(), firstSessionId: UInt64 = 1) {
        self.name = name
        self.timing = timing
        self.nextSessionId = firstSessionId
        self.backoff = timing.backoffInitial
    }

    public func session(_ id: UInt64) -> CoprocSessionState? {
        sessions.first { $0.sessionId == id }
    }

    public var activeSession: CoprocSessionState? {
        activeSessionId.flatMap { session($0) }
    }

    // MARK: - Events

    /// Time passed. `socketInode` is the inode now at the coprocessor's socket path (nil: no file).
    public mutating func tick(now: UInt64, socketInode: UInt64?) -> [SupervisorAction] {
        forgiveOwnStall(now: now)
        var actions: [SupervisorAction] = []
        for state in sessions {
            switch state.phase {
            case .attaching, .handshaking:
                if now &- state.startedAt > timing.handshakeTimeout {
                    actions += fail(state.sessionId, reason: .hung, message: "handshake took longer than \(timing.handshakeTimeout / 1_000_000) ms", now: now)
                }
            case .ready, .draining:
                if now &- state.lastHeartbeatAck > timing.hungAfter {
                    actions += fail(state.sessionId, reason: .hung, message: "no heartbeat answer for \((now &- state.lastHeartbeatAck) / 1_000_000) ms", now: now)
                } else if let started = state.drainStartedAt, now &- started > timing.drainTimeout {
                    actions += close(state.sessionId, reason: .drained, now: now)
                } else if now &- state.lastHeartbeatSent >= timing.heartbeatInterval {
                    let sequence = state.heartbeatSequence &+ 1
                    update(state.sessionId) {
                        $0.heartbeatSequence = sequence
                        $0.lastHeartbeatSent = now
                    }
                    actions.append(.sendHeartbeat(sessionId: state.sessionId, sequence: sequence))
                }
            }
        }
        let connecting = sessions.contains { $0.phase == .attaching || $0.phase == .handshaking }
        if !retired, !connecting, now >= nextAttemptAt, socketInode != nil {
            if let active = activeSession {
                let replaced = active.socketInode != nil && active.socketInode != socketInode
                if replaced || recycleRequested {
                    recycleRequested = false
                    actions.append(.log(.info, "coprocessor \(name): \(replaced ? "a new process took over the socket path" : "drain requested"), attaching beside session \(active.sessionId)"))
                    actions.append(startAttach(now: now))
                }
            } else if !sessions.contains(where: { $0.phase == .ready }) {
                actions.append(startAttach(now: now))
            }
        }
        return actions
    }

    /// The attach socket connected and the coprocessor acknowledged the region.
    public mutating func attached(sessionId: UInt64, socketInode: UInt64?, now: UInt64) -> [SupervisorAction] {
        guard let state = session(sessionId), state.phase == .attaching else { return [] }
        update(sessionId) {
            $0.phase = .handshaking
            $0.socketInode = socketInode
        }
        return [.sendHello(sessionId: sessionId)]
    }

    /// Connecting, the peer-credential check, or the attach exchange failed.
    public mutating func attachFailed(sessionId: UInt64, error: String, now: UInt64) -> [SupervisorAction] {
        guard session(sessionId) != nil else { return [] }
        return fail(sessionId, reason: .down, message: error, now: now)
    }

    /// The coprocessor's `hello`: versions and name are checked; on success the session becomes
    /// ready and takes new calls (an older ready session is drained: upgrade hand-over).
    public mutating func helloReceived(sessionId: UInt64, hello: Hello, now: UInt64) -> [SupervisorAction] {
        guard let state = session(sessionId), state.phase == .handshaking else { return [] }
        if let mismatch = Self.mismatch(hello, expectedName: name) {
            var actions: [SupervisorAction] = [.refuse(sessionId: sessionId, reason: mismatch)]
            actions += fail(sessionId, reason: .refused, message: mismatch, now: now)
            return actions
        }
        update(sessionId) {
            $0.phase = .ready
            $0.peer = hello
            $0.lastHeartbeatAck = now
            $0.lastHeartbeatSent = now
        }
        handshakes += 1
        backoff = timing.backoffInitial
        var actions: [SupervisorAction] = [
            .log(.info, "coprocessor \(name) ready: pid \(hello.pid), build \(hello.buildVersion), session \(sessionId)")
        ]
        if let previous = activeSessionId, previous != sessionId {
            update(previous) {
                $0.phase = .draining
                $0.drainStartedAt = now
            }
            actions.append(.log(.info, "coprocessor \(name): session \(previous) drains, session \(sessionId) takes new calls"))
            actions.append(.activate(sessionId: sessionId))
            actions.append(.drain(sessionId: previous))
        } else {
            actions.append(.activate(sessionId: sessionId))
        }
        activeSessionId = sessionId
        return actions
    }

    /// The coprocessor answered `refuse`.
    public mutating func refused(sessionId: UInt64, reason: String, now: UInt64) -> [SupervisorAction] {
        guard session(sessionId) != nil else { return [] }
        return fail(sessionId, reason: .refused, message: "refused by the coprocessor: \(reason)", now: now)
    }

    public mutating func heartbeatAck(sessionId: UInt64, sequence: UInt64, now: UInt64) -> [SupervisorAction] {
        update(sessionId) { state in
            if sequence <= state.heartbeatSequence { state.lastHeartbeatAck = now }
        }
        return []
    }

    /// A draining session finished its in-flight calls.
    public mutating func drained(sessionId: UInt64, now: UInt64) -> [SupervisorAction] {
        guard let state = session(sessionId), state.phase == .draining else { return [] }
        return close(sessionId, reason: .drained, now: now)
    }

    /// EOF on the attach socket or a doorbell: the process is gone.
    public mutating func peerGone(sessionId: UInt64, now: UInt64) -> [SupervisorAction] {
        guard let state = session(sessionId) else { return [] }
        if state.phase == .draining {
            // A drained process exits on purpose once its sessions are gone.
            return close(sessionId, reason: .drained, now: now)
        }
        return fail(sessionId, reason: .down, message: "process exited or closed its socket", now: now)
    }

    /// The session broke the protocol (malformed frame, unknown call id, wrong answer kind…).
    public mutating func violation(sessionId: UInt64, detail: String, now: UInt64) -> [SupervisorAction] {
        guard session(sessionId) != nil else { return [] }
        return fail(sessionId, reason: .protocol, message: "protocol violation: \(detail)", now: now)
    }

    /// `herzctl coproc drain NAME`: attach a fresh session (to whatever process now listens at the
    /// path), move new calls to it, drain the current one — the upgrade hand-over, on demand.
    public mutating func operatorDrain() -> [SupervisorAction] {
        guard activeSessionId != nil else { return [] }
        recycleRequested = true
        return [.log(.info, "coprocessor \(name): drain requested")]
    }

    /// The coprocessor left the configuration (or was replaced by a changed entry): sessions still
    /// connecting are closed, ready ones drain (their calls in flight finish, within the drain
    /// timeout), and nothing is attached again. New calls no longer reach this supervisor's
    /// sessions; the active one keeps taking the calls its workers already parked.
    public mutating func retire(now: UInt64) -> [SupervisorAction] {
        guard !retired else { return [] }
        retired = true
        var actions: [SupervisorAction] = [.log(.info, "coprocessor \(name): removed from the configuration, its sessions drain")]
        for state in sessions {
            switch state.phase {
            case .attaching, .handshaking:
                actions += close(state.sessionId, reason: .drained, now: now)
            case .ready:
                update(state.sessionId) {
                    $0.phase = .draining
                    $0.drainStartedAt = now
                }
                actions.append(.drain(sessionId: state.sessionId))
            case .draining:
                break
            }
        }
        return actions
    }

    // MARK: - Helpers

    /// Ticks come every few milliseconds. When the kernel's own supervisor thread was not scheduled
    /// for longer (an overloaded machine), it could neither send heartbeats nor read their answers:
    /// that gap is not held against the coprocessor's heartbeat deadline.
    private mutating func forgiveOwnStall(now: UInt64) {
        defer { lastTick = now }
        guard let last = lastTick, now &- last > 2 * timing.heartbeatInterval else { return }
        let stall = now &- last &- timing.heartbeatInterval
        for index in sessions.indices where sessions[index].phase == .ready || sessions[index].phase == .draining {
            sessions[index].lastHeartbeatAck = min(now, sessions[index].lastHeartbeatAck &+ stall)
        }
    }

    static func mismatch(_ hello: Hello, expectedName: String) -> String? {
        if let mismatch = CoprocProtocol.versionMismatch(hello) {
            return "\(mismatch.protocolName) protocol \(mismatch.peer), kernel speaks \(mismatch.ours)"
        }
        if hello.name != expectedName {
            return "it calls itself \(hello.name), the kernel expects \(expectedName)"
        }
        return nil
    }

    private mutating func startAttach(now: UInt64) -> SupervisorAction {
        let id = nextSessionId
        nextSessionId += 1
        sessions.append(CoprocSessionState(sessionId: id, phase: .attaching, startedAt: now, socketInode: nil, peer: nil, lastHeartbeatAck: now))
        return .attach(sessionId: id)
    }

    /// Ends a session because something went wrong: logged, counted, backed off.
    private mutating func fail(_ id: UInt64, reason: CoprocFailureReason, message: String, now: UInt64) -> [SupervisorAction] {
        let wasReady = session(id).map { $0.phase == .ready || $0.phase == .draining } ?? false
        let text = "coprocessor \(name) session \(id): \(message)"
        lastError = text
        var actions: [SupervisorAction] = [.log(wasReady || reason == .refused ? .error : .warning, text)]
        if wasReady { sessionsLost += 1 }
        actions += close(id, reason: reason, now: now)
        nextAttemptAt = now &+ backoff
        backoff = min(backoff &* 2, timing.backoffMax)
        return actions
    }

    private mutating func close(_ id: UInt64, reason: CoprocFailureReason, now: UInt64) -> [SupervisorAction] {
        var actions: [SupervisorAction] = []
        if activeSessionId == id {
            activeSessionId = nil
            actions.append(.deactivate(reason: reason))
        }
        sessions.removeAll { $0.sessionId == id }
        actions.append(.close(sessionId: id, reason: reason))
        return actions
    }

    private mutating func update(_ id: UInt64, _ edit: (inout CoprocSessionState) -> Void) {
        guard let index = sessions.firstIndex(where: { $0.sessionId == id }) else { return }
        edit(&sessions[index])
    }
}
