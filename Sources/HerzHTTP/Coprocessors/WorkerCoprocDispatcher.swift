import HerzCore
import NIOPosix
import HerzCoproc
import HerzCoprocFilter

/// The ``CoprocCallDispatcher`` a worker's filters use: routes each call to that worker's client
/// of the named coprocessor and keeps the tickets of calls still outstanding (so a cancelled
/// stream can withdraw its call). Event-loop owned, like the clients it holds; the runtime changes
/// the set of clients (reloads) on the loop too.
final class WorkerCoprocDispatcher: CoprocCallDispatcher {
    private(set) var clients: [String: WorkerCoprocClient] = [:]
    private var outstanding: [UInt64: PendingCoprocCall] = [:]
    private var nextTicket: UInt64 = 0

    init() {}

    /// New calls to `client.name` go to `client` (a previous client keeps its calls in flight).
    func install(_ client: WorkerCoprocClient) {
        clients[client.name] = client
    }

    /// Forgets `client` unless another client already took its name over.
    func remove(_ client: WorkerCoprocClient) {
        if clients[client.name] === client { clients[client.name] = nil }
    }

    func dispatch(coprocessor: String, call: CoprocCall, completion: @escaping (CoprocCallOutcome) -> Void) -> CoprocCallTicket {
        nextTicket &+= 1
        let ticket = nextTicket
        guard let client = clients[coprocessor] else {
            completion(.failClosed(reason: CoprocFailureReason.down.rawValue))
            return CoprocCallTicket(rawValue: ticket)
        }
        let pending = client.dispatch(call) { [weak self] outcome in
            self?.outstanding[ticket] = nil
            completion(outcome)
        }
        if !pending.isDone { outstanding[ticket] = pending }
        return CoprocCallTicket(rawValue: ticket)
    }

    func cancel(_ ticket: CoprocCallTicket) {
        guard let pending = outstanding.removeValue(forKey: ticket.rawValue) else { return }
        pending.client?.cancel(pending)
    }

    func streamEnded(coprocessor: String, streamId: UInt64, reset: Bool) {
        clients[coprocessor]?.streamEnded(streamId: streamId, reset: reset)
    }
}

/// Finds the dispatcher of the worker a stream runs on (by its event loop). Filled once while the
/// kernel is built, before any stream exists; read-only afterwards.
final class KernelCoprocDispatchers: CoprocDispatcherProvider, @unchecked Sendable {
    private var byLoop: [ObjectIdentifier: WorkerCoprocDispatcher] = [:]

    func install(_ dispatchers: [ObjectIdentifier: WorkerCoprocDispatcher]) {
        byLoop = dispatchers
    }

    func dispatcher(for streamInfo: StreamInfo) -> CoprocCallDispatcher {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop, let dispatcher = byLoop[ObjectIdentifier(loop)] else {
            // Not on a worker (never in the kernel): a dispatcher of its own that fails every call closed.
            return WorkerCoprocDispatcher()
        }
        return dispatcher
    }
}
