/// Why a call did not get a real answer: the REASON in `x-herz-coproc-error` and in the 503 body
/// (docs/coprocessor-protocol.md section 7). Short, stable, never secret.
public enum CoprocFailureReason: String, Sendable, CaseIterable {
    /// No session is up (the process is not running, exited, or was killed).
    case down
    /// The process stopped answering heartbeats.
    case hung
    /// The call overran its deadline.
    case timeout
    /// The coprocessor broke the protocol (malformed frame, unknown call id, wrong answer kind…).
    case `protocol`
    /// The coprocessor said it is overloaded, or the kernel could not queue the call.
    case overloaded
    /// The coprocessor answered `failure` (internal, unsupported, bad input, deadline).
    case `internal`
    /// The call does not fit in a ring record.
    case frameTooLarge = "frame-too-large"
    /// The handshake was refused (version or name mismatch, peer credentials).
    case refused
    /// The operator drained the coprocessor (`herzctl coproc drain`).
    case drained
}
