import Glibc
import HerzCoproc
import HerzCore

/// The supervisor thread's view of one configured coprocessor: its state machine and the I/O of
/// each session (attach socket, ZeroMQ control socket, shared region). Owned by the supervisor
/// thread of ``CoprocessorRuntime``; never touched elsewhere.
final class CoprocessorLink {
    final class SessionIO {
        var attach: AttachSocket?
        var control: ZMQSocket?
        var session: KernelCoprocSession?
    }

    let index: Int
    let config: CoprocessorConfig
    let path: String
    let allowedUIDs: Set<UInt32>
    var supervisor: CoprocSupervisor
    var sessions: [UInt64: SessionIO] = [:]
    var stats: CoprocStats?
    var lastStatsRequest: UInt64 = 0

    init(index: Int, config: CoprocessorConfig, allowedUIDs: Set<UInt32>) {
        self.index = index
        self.config = config
        self.path = Self.socketPath(config.endpoint)
        self.allowedUIDs = allowedUIDs
        self.supervisor = CoprocSupervisor(name: config.name, firstSessionId: (UInt64(index) + 1) << 40)
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
        if supervisor.activeSessionId != nil { state = "ready" } else if supervisor.sessions.isEmpty { state = "down" } else { state = "connecting" }
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
