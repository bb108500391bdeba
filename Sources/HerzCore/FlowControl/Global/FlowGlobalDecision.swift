/// The answer to one request on one global limit, and what it rests on (for metrics and logs).
public enum FlowGlobalDecision: Sendable, Equatable {
    case admit(Basis)
    /// Refused; the limit expects to admit again in `retryAfterNanos` (`retry_after: auto`).
    case limit(retryAfterNanos: UInt64, Basis)

    /// Where a decision came from.
    public enum Basis: Sendable, Equatable {
        /// Tokens this worker had leased, or the store's recent refusal of the key (no call made).
        case lease
        /// The store's answer to a call made for this request.
        case store
        /// The limit's `on_store_failure` (`allow`, or its `local(…)` bucket), and why.
        case storeFailure(FlowGlobalStoreFailure)
        /// The limit is not global, or vanished in a reload while the request waited: admitted.
        case noSuchLimit
    }

    public var isAdmitted: Bool {
        if case .admit = self { return true }
        return false
    }

    public var basis: Basis {
        switch self {
        case .admit(let basis), .limit(_, let basis): return basis
        }
    }
}

/// Why the store could not decide a request, each one answered with `on_store_failure`.
public enum FlowGlobalStoreFailure: String, Sendable, Equatable, CaseIterable {
    /// No answer within the call timeout.
    case timeout
    /// Not connected (refused, reset, reconnecting after a backoff).
    case unavailable
    /// Too many requests waiting on this worker, or the connection's pipeline is full.
    case overloaded
    /// The store failed recently; the circuit sends no calls until its next probe.
    case circuitOpen
    /// An error reply or a reply of the wrong shape (a script error, a key of another type).
    case badReply
    /// The limit's rate and burst do not fit the store's exact arithmetic (``FlowGlobalBucket``).
    case unrepresentable
}
