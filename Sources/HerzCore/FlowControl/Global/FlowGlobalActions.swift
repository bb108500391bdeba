/// A store call the limiter wants made: run ``FlowGlobalScript`` on `key` with `arguments`, then
/// report the outcome to ``FlowGlobalLimiterState/fetchCompleted(_:_:now:)`` with the same `id`.
public struct FlowGlobalFetch: Sendable, Equatable {
    public let id: UInt64
    public let key: String
    public let arguments: [String]
}

/// How a store call ended.
public enum FlowGlobalFetchResult: Sendable, Equatable {
    case granted(FlowGlobalGrant)
    case failed(FlowGlobalStoreFailure)
}

/// A decision for a request that was waiting (``FlowGlobalAcquire/waiting(ticket:fetch:)``).
public struct FlowGlobalAnswer: Sendable, Equatable {
    public let ticket: UInt64
    public let decision: FlowGlobalDecision
}

/// What the I/O layer must do after an event: answer these waiting requests, make these calls.
public struct FlowGlobalActions: Sendable, Equatable {
    public var answers: [FlowGlobalAnswer] = []
    public var fetches: [FlowGlobalFetch] = []

    public init() {}

    public var isEmpty: Bool { answers.isEmpty && fetches.isEmpty }
}

/// The result of ``FlowGlobalLimiterState/acquire(_:key:cost:now:)``.
public enum FlowGlobalAcquire: Sendable, Equatable {
    /// Answered now, without waiting for the store.
    case decided(FlowGlobalDecision)
    /// The request waits for the store under `ticket`; make `fetch` if there is one (else a call
    /// for its key is already out). Its answer comes in some later ``FlowGlobalActions``, at the
    /// latest from ``FlowGlobalLimiterState/expire(now:)`` once the call timeout has passed.
    case waiting(ticket: UInt64, fetch: FlowGlobalFetch?)
}

/// A global limit of the rules a ``FlowGlobalLimiterState`` was built from, resolved once (at
/// load) so that each request finds its limit by index. A handle of an older rule set (before a
/// reload) finds nothing rather than another limit.
public struct FlowGlobalLimitHandle: Sendable, Hashable {
    public let index: Int
    public let generation: UInt64
}
