/// The calls one kernel worker has in flight with one coprocessor: call ids, the session each went
/// to, and what answer each may get (docs/coprocessor-protocol.md sections 4 and 7).
///
/// Pure bookkeeping, generic over the caller's per-call `Token` (the kernel keeps its completion
/// there). Owned by one worker's event loop.
public struct CoprocCallLedger<Token> {
    private struct Entry {
        let sessionId: UInt64
        let phase: CallPhase
        let token: Token
    }

    /// What to do with an answer read from a ring.
    public enum Verdict {
        /// A call in flight: complete it with the answer.
        case deliver(Token)
        /// A call the kernel already gave up on: drop the answer.
        case late
        /// The session broke the protocol (unknown call, answer of the wrong kind, wrong session).
        case violation(String)
    }

    private var inFlight: [UInt64: Entry] = [:]
    private var abandoned: RecentCallIDs
    private var nextCallId: UInt64

    public init(firstCallId: UInt64 = 1, rememberAbandoned: Int = 4096) {
        self.nextCallId = firstCallId
        self.abandoned = RecentCallIDs(capacity: rememberAbandoned)
    }

    public var count: Int { inFlight.count }

    /// Records a call sent to `sessionId`; returns the call id to put in the frame.
    public mutating func begin(sessionId: UInt64, phase: CallPhase, token: Token) -> UInt64 {
        let id = nextCallId
        nextCallId &+= 1
        inFlight[id] = Entry(sessionId: sessionId, phase: phase, token: token)
        return id
    }

    /// Checks an answer that arrived on `sessionId`'s answers ring.
    public mutating func answer(_ answer: CoprocAnswer, sessionId: UInt64) -> Verdict {
        guard let entry = inFlight[answer.callId] else {
            return abandoned.take(answer.callId) ? .late : .violation("answer for unknown call \(answer.callId)")
        }
        guard entry.sessionId == sessionId else {
            return .violation("answer for call \(answer.callId) on the wrong session")
        }
        guard answer.result.fits(entry.phase) else {
            return .violation("answer of the wrong kind for a \(entry.phase.configName) call")
        }
        inFlight[answer.callId] = nil
        return .deliver(entry.token)
    }

    /// Gives up on a call (deadline passed, stream gone); a late answer to it will be `.late`.
    public mutating func abandon(callId: UInt64) -> Token? {
        guard let entry = inFlight.removeValue(forKey: callId) else { return nil }
        abandoned.insert(callId)
        return entry.token
    }

    /// Takes back a call that was never published (its ring was full): no answer can come for it.
    public mutating func withdraw(callId: UInt64) {
        inFlight[callId] = nil
    }

    /// Removes every call of a session that ended, oldest id first.
    public mutating func endSession(_ sessionId: UInt64) -> [Token] {
        let ids = inFlight.filter { $0.value.sessionId == sessionId }.keys.sorted()
        return ids.compactMap { inFlight.removeValue(forKey: $0)?.token }
    }

    /// Calls in flight on a session (for drain and metrics).
    public func count(sessionId: UInt64) -> Int {
        inFlight.values.reduce(0) { $0 + ($1.sessionId == sessionId ? 1 : 0) }
    }
}

extension AnswerResult {
    /// Whether this answer is allowed for a call of `phase` (section 4: headers answers for header
    /// phases, data for body phases, trailers for trailer phases; local reply and failure for any).
    public func fits(_ phase: CallPhase) -> Bool {
        switch self {
        case .localReply, .failure: return true
        case .headers: return phase == .requestHeaders || phase == .responseHeaders
        case .data: return phase == .requestBody || phase == .responseBody
        case .trailers: return phase == .requestTrailers || phase == .responseTrailers
        }
    }
}
