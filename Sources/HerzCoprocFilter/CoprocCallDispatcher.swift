import HerzCore
import HerzCoproc

/// The kernel's transport to coprocessors as the `coproc` filter sees it. One instance per worker
/// (event loop), implemented by the kernel's coprocessor runtime; every method is called on that
/// event loop, and every completion runs on it too (possibly synchronously inside `dispatch`).
///
/// Guarantees the dispatcher gives the filter:
/// - `dispatch` fills in `callId` and `deadlineNanos` and runs `completion` exactly once, unless
///   the call is cancelled first; after `cancel(_:)` the completion never runs;
/// - the dispatcher applies the coprocessor's `on_failure` policy itself (including `wait`, and an
///   answer of kind `failure`), so the filter only ever sees `answered` with a non-failure result,
///   `failOpen` or `failClosed`;
/// - backpressure (a full ring) only delays the completion; it never drops the call.
public protocol CoprocCallDispatcher: AnyObject {
    /// Sends `call` to the coprocessor named `coprocessor` (a name validated against the config).
    func dispatch(coprocessor: String, call: CoprocCall, completion: @escaping (CoprocCallOutcome) -> Void) -> CoprocCallTicket
    /// The stream went away while the call was outstanding: drop it; `completion` must never run.
    func cancel(_ ticket: CoprocCallTicket)
    /// Sent once per stream that made at least one call, after its last call settled or was cancelled
    /// (`StreamEnd` on the wire). `reset` is false when a complete response left this filter or the
    /// filter replaced the response with a local reply; true otherwise (peer reset, a local reply
    /// after response headers had gone, which the manager turns into a reset, or a local reply by
    /// a filter before this one in the request path).
    func streamEnded(coprocessor: String, streamId: UInt64, reset: Bool)
}

/// How one call ended, as the filter sees it.
public enum CoprocCallOutcome: Equatable, Sendable {
    /// The coprocessor answered (headers, data, trailers or localReply).
    case answered(AnswerResult)
    /// The call failed and the policy is `fail_open`: the filter goes on as if the coprocessor had
    /// answered `continue` without mutations (for a body chunk: the original chunk passes).
    case failOpen(reason: String)
    /// The call failed and the policy is `fail_closed` (or `wait` ran out): the filter ends the
    /// stream with ``CoprocFailureReply`` (503, `x-herz-coproc-error: REASON`). `reason` is one of
    /// docs/coprocessor-protocol.md section 7 (`down`, `hung`, `timeout`, `protocol`, …).
    case failClosed(reason: String)
}

/// Identifies one dispatched call to its dispatcher (for ``CoprocCallDispatcher/cancel(_:)``).
/// Opaque to the filter.
public struct CoprocCallTicket: Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// Hands a ``CoprocHTTPFilterFactory`` (shared by every worker) the dispatcher of the worker a
/// stream runs on. Called from `makeFilter`, i.e. on the stream's event loop; the kernel typically
/// answers with the current event loop's worker's dispatcher.
public protocol CoprocDispatcherProvider: Sendable {
    func dispatcher(for streamInfo: StreamInfo) -> CoprocCallDispatcher
}

extension CoprocFailureKind {
    /// The REASON a failure answer of this kind reports under `fail_closed`.
    public var reason: String {
        switch self {
        case .internal: return "internal"
        case .unsupported: return "unsupported"
        case .overloaded: return "overloaded"
        case .deadlineExceeded: return "timeout"
        case .badInput: return "bad-input"
        }
    }
}
