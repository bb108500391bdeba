import Glibc
import HerzCoproc
import HerzCore

/// The supervisor thread's view of one configured coprocessor: its state machine, the I/O of
/// each session (attach socket, ZeroMQ control socket, shared region) and its client on every
/// worker. Owned by the supervisor thread of ``CoprocessorRuntime``; never touched elsewhere (the
/// clients themselves are only used on their workers' event loops).
final class CoprocessorLink {
    final class SessionIO {
        var attach: AttachSocket?
        var control: ZMQSocket?
        var session: KernelCoprocSession?
    }

    /// Unique per link over the kernel's lifetime: spaces the session ids of links apart.
    let serial: Int
    let config: CoprocessorConfig
    /// clients[worker]: this coprocessor's client on each worker.
    let clients: [WorkerCoprocClient]
    let path: String
    let allowedUIDs: Set<UInt32>
    var supervisor: CoprocSupervisor
    var sessions: [UInt64: SessionIO] = [:]
    var stats: CoprocStats?
    var lastStatsRequest: UInt64 = 0
    /// The session being switched to on every worker; drains wait until the switch is done.
    var activating: UInt64?
    /// Every worker has a session to send calls to (set once an activation reached them all,
    /// cleared on deactivation): only then does the coprocessor count as `ready`.
    var workersHaveSession = false
    var deferredDrains: [UInt64] = []
    /// Set when a reload replaced this link: it retires once the replacement takes every new call.
    var replacedBy: Int?
    /// `reload` requests sent and not answered yet, oldest first.
    var pendingReloads: [(sessionId: UInt64, reply: @Sendable (CoprocReloadOutcome) -> Void)] = []

    init(serial: Int, config: CoprocessorConfig, allowedUIDs: Set<UInt32>, clients: [WorkerCoprocClient]) {
        self.serial = serial
        self.config = config
        self.clients = clients
        self.path = Self.socketPath(config.endpoint)
        self.allowedUIDs = allowedUIDs
        var timing = SupervisorTiming()
        timing.heartbeatInterval = UInt64(config.heartbeatInterval.nanoseconds)
        timing.hungAfter = UInt64(config.hungAfter.nanoseconds)
        self.supervisor = CoprocSupervisor(name: config.name, timing: timing, firstSessionId: (UInt64(serial) + 1) << 40)
    }

    /// `unix:/run/x.sock` → `/run/x.sock` (the config loader already rejected other schemes).
    static func socketPath(_ endpoint: String) -> String {
        endpoint.hasPrefix("unix:") ? String(endpoint.dropFirst(5)) : endpoint
    }

    /// The inode now at the socket path, nil when nothing is there.
    func socketInode() -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    func status() -> CoprocessorStatus {
        let state: String
        if supervisor.activeSessionId != nil && workersHaveSession { state = "ready" } else if supervisor.sessions.isEmpty { state = "down" } else { state = "connecting" }
        return CoprocessorStatus(
            name: config.name, endpoint: config.endpoint, state: state, activeSession: supervisor.activeSessionId,
            sessions: supervisor.sessions.map {
                CoprocessorStatus.Session(id: $0.sessionId, phase: $0.phase.rawValue, pid: $0.peer?.pid,
                                          build: $0.peer?.buildVersion, generation: $0.peer?.generation)
            },
            handshakes: supervisor.handshakes, restarts: supervisor.sessionsLost, lastError: supervisor.lastError,
            stats: stats, onFailure: config.onFailure.rawValue)
    }
}
