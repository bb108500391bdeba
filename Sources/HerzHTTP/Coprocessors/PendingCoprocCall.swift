import HerzCoproc
import HerzCoprocFilter
import NIOCore

/// One call a filter made through a worker's ``WorkerCoprocClient``, from dispatch to its outcome.
///
/// Guarantees: the completion runs at most once, on the worker's event loop, and never after
/// `cancel()`. Event-loop owned.
final class PendingCoprocCall: DeadlineOwner {
    enum State {
        /// No session takes calls; held under the `wait` policy.
        case waiting
        /// Encoded size did not fit the ring yet; parked until the coprocessor frees space.
        case blocked
        case inFlight(callId: UInt64, sessionId: UInt64)
        case done
    }

    var call: CoprocCall
    var state: State = .waiting
    var deadlineToken: UInt64 = 0
    let dispatchedAt: NIODeadline
    private var completion: ((CoprocCallOutcome) -> Void)?
    weak var client: WorkerCoprocClient?

    init(call: CoprocCall, client: WorkerCoprocClient, completion: @escaping (CoprocCallOutcome) -> Void) {
        self.call = call
        self.client = client
        self.completion = completion
        self.dispatchedAt = .now()
    }

    var isDone: Bool {
        if case .done = state { return true } else { return false }
    }

    /// Runs the completion (once) and marks the call done.
    func finish(_ outcome: CoprocCallOutcome) {
        state = .done
        deadlineToken = 0
        guard let completion else { return }
        self.completion = nil
        completion(outcome)
    }

    /// The stream went away: the completion is dropped without running.
    func cancel() {
        state = .done
        deadlineToken = 0
        completion = nil
    }

    func deadlineExpired(token: UInt64) {
        guard token == deadlineToken, !isDone else { return }
        client?.deadlinePassed(self)
    }
}
