import HerzCoproc
import NIOHTTP1

extension AdminRoutes {
    /// The body of GET /coprocessors: per coprocessor its state, sessions (pid, build, generation),
    /// handshakes, restarts, last error, the coprocessor's own stats, and the kernel-side figures
    /// summed over workers (calls in flight, queued calls, calls-ring occupancy).
    struct CoprocessorsBody: Encodable {
        struct Session: Encodable {
            let id: UInt64
            let phase: String
            let pid: UInt32?
            let build: String?
            let generation: UInt64?
        }
        struct Stats: Encodable {
            let callsServed: UInt64
            let callsFailed: UInt64
            let inFlight: UInt32
            let rssBytes: UInt64
            let uptimeMillis: UInt64
        }
        struct Coprocessor: Encodable {
            let name: String
            let endpoint: String
            let state: String
            let onFailure: String
            let activeSession: UInt64?
            let pid: UInt32?
            let build: String?
            let generation: UInt64?
            let sessions: [Session]
            let handshakes: UInt64
            let restarts: UInt64
            let lastError: String?
            let stats: Stats?
            let kernelInFlight: Int
            let kernelQueued: Int
            let ringOccupancyBytes: Int
        }
        let coprocessors: [Coprocessor]
    }

    func coprocessorsJSON() -> String {
        let figures = kernel.coprocessors.workerFigures()
        let list = kernel.coprocessors.status().map { status -> CoprocessorsBody.Coprocessor in
            let active = status.sessions.first { $0.id == status.activeSession }
            let sums = figures[status.name] ?? CoprocessorRuntime.WorkerFigures()
            return CoprocessorsBody.Coprocessor(
                name: status.name, endpoint: status.endpoint, state: status.state, onFailure: status.onFailure,
                activeSession: status.activeSession, pid: active?.pid, build: active?.build, generation: active?.generation,
                sessions: status.sessions.map { .init(id: $0.id, phase: $0.phase, pid: $0.pid, build: $0.build, generation: $0.generation) },
                handshakes: status.handshakes, restarts: status.restarts, lastError: status.lastError,
                stats: status.stats.map { .init(callsServed: $0.callsServed, callsFailed: $0.callsFailed, inFlight: $0.inFlight,
                                                 rssBytes: $0.rssBytes, uptimeMillis: $0.uptimeMillis) },
                kernelInFlight: sums.inFlight, kernelQueued: sums.queued, ringOccupancyBytes: sums.ringOccupancy)
        }
        return encode(CoprocessorsBody(coprocessors: list))
    }

    /// POST /coprocessors/NAME/reload: 200 with the coprocessor's answer when it reloaded, 409 when
    /// it refused (its old configuration keeps serving), 404/503/504 when it could not be asked.
    func coprocessorReload(name: String) -> Response {
        func text(_ status: HTTPResponseStatus, _ body: String) -> Response {
            Response(status: status, contentType: "text/plain", body: body + "\n")
        }
        switch kernel.coprocessors.reloadCoprocessor(name: name) {
        case .answered(true, let message):
            return text(.ok, "coprocessor \(name) reloaded: \(message)")
        case .answered(false, let message):
            return text(.conflict, "coprocessor \(name) rejected the reload (its previous configuration keeps serving): \(message)")
        case .noSuchCoprocessor:
            return text(.notFound, "no coprocessor named \(name)")
        case .notAttached:
            return text(.serviceUnavailable, "coprocessor \(name) has no session to reload")
        case .sessionClosed(let reason):
            return text(.serviceUnavailable, "coprocessor \(name): the session closed before answering (\(reason))")
        case .timedOut:
            return text(.gatewayTimeout, "coprocessor \(name) did not answer the reload in time")
        }
    }
}
