/// The circuit breaker of `breaker: { error_rate > X% over W, min_requests: M, open_for: T,
/// half_open_probes: P }` as a pure state machine: events in (`admit`, `record`, `cancel`, with
/// the time as an argument), verdicts and transitions out. The cluster layer runs it and acts on
/// what it returns; nothing here reads a clock or touches I/O.
///
/// ```
///            failure with ≥ M requests in W and rate > X
///   ┌────────┐ ───────────────────────────────────▶ ┌──────┐
///   │ closed │                                      │ open │ ◀──┐ any probe fails
///   └────────┘ ◀─────────┐                          └──────┘    │ (reopened)
///        ▲               │ P probes succeeded           │ T elapsed (on the next admit/refresh)
///        │ (closed)      │                              ▼
///        │          ┌───────────┐                       │
///        └──────────│ half-open │ ◀─────────────────────┘ (halfOpened)
///                   └───────────┘ admits at most P probes in total; others rejected
/// ```
///
/// Guarantees: outcomes are counted only for permits of the current state (each transition starts
/// a new generation, so a slow answer admitted before the breaker opened cannot close or reopen
/// it); half-open never has more than `P` probes out; the window's memory is bounded.
public struct FlowCircuitBreaker: Sendable, Equatable {
    /// Where the breaker is in the diagram above.
    public enum State: Sendable, Equatable {
        case closed
        case open(until: UInt64)
        case halfOpen(probesInFlight: Int, probesSucceeded: Int)
    }

    /// A state change, for metrics and logs.
    public enum Transition: Sendable, Equatable {
        case opened, halfOpened, closed, reopened
    }

    /// Proof of admission; give it back to ``record(_:failure:now:)`` or ``cancel(_:)``.
    public struct Permit: Sendable, Equatable {
        public let generation: UInt64
        public let isProbe: Bool
    }

    /// Whether a request may go to the cluster now.
    public enum Verdict: Sendable, Equatable {
        case allow(Permit)
        /// `retryAfterNanos` is nil in half-open (it depends on the probes' answers).
        case reject(retryAfterNanos: UInt64?)
    }

    public private(set) var policy: FlowBreakerPolicy
    public private(set) var state: State = .closed
    public private(set) var generation: UInt64 = 0
    private var window: FlowSlidingWindow

    public init(policy: FlowBreakerPolicy) {
        self.policy = policy
        self.window = FlowSlidingWindow(windowNanos: UInt64(max(1, policy.window.nanoseconds)))
    }

    /// Moves open → half-open once `open_for` has passed.
    public mutating func refresh(now: UInt64) -> Transition? {
        guard case .open(let until) = state, now >= until else { return nil }
        enter(.halfOpen(probesInFlight: 0, probesSucceeded: 0))
        return .halfOpened
    }

    public mutating func admit(now: UInt64) -> (verdict: Verdict, transition: Transition?) {
        let transition = refresh(now: now)
        switch state {
        case .closed:
            return (.allow(Permit(generation: generation, isProbe: false)), transition)
        case .open(let until):
            return (.reject(retryAfterNanos: until - now), transition)
        case .halfOpen(let inFlight, let succeeded):
            guard inFlight + succeeded < policy.halfOpenProbes else { return (.reject(retryAfterNanos: nil), transition) }
            state = .halfOpen(probesInFlight: inFlight + 1, probesSucceeded: succeeded)
            return (.allow(Permit(generation: generation, isProbe: true)), transition)
        }
    }

    /// The outcome of an admitted request. Stale permits (from before a transition) are ignored.
    public mutating func record(_ permit: Permit, failure: Bool, now: UInt64) -> Transition? {
        guard permit.generation == generation else { return nil }
        switch state {
        case .closed:
            window.record(failure: failure, now: now)
            guard failure, shouldTrip(now: now) else { return nil }
            enter(.open(until: now &+ UInt64(max(0, policy.openFor.nanoseconds))))
            return .opened
        case .halfOpen(let inFlight, let succeeded):
            if failure {
                enter(.open(until: now &+ UInt64(max(0, policy.openFor.nanoseconds))))
                return .reopened
            }
            guard succeeded + 1 >= policy.halfOpenProbes else {
                state = .halfOpen(probesInFlight: max(0, inFlight - 1), probesSucceeded: succeeded + 1)
                return nil
            }
            enter(.closed)
            return .closed
        case .open:
            return nil
        }
    }

    /// A probe that ended without an outcome (client gone, request cancelled) frees its slot.
    public mutating func cancel(_ permit: Permit) {
        guard permit.isProbe, permit.generation == generation, case .halfOpen(let inFlight, let succeeded) = state else { return }
        state = .halfOpen(probesInFlight: max(0, inFlight - 1), probesSucceeded: succeeded)
    }

    /// Requests and failures in the current window (closed state), for `/flow`.
    public func windowCounts(now: UInt64) -> (requests: Int, failures: Int) { window.counts(now: now) }

    /// The same breaker under a new policy (a reload): its state carries over; the window's counts
    /// too unless the window length changed.
    public func reconfigured(to policy: FlowBreakerPolicy) -> FlowCircuitBreaker {
        var breaker = self
        breaker.policy = policy
        if policy.window != self.policy.window {
            breaker.window = FlowSlidingWindow(windowNanos: UInt64(max(1, policy.window.nanoseconds)))
        }
        return breaker
    }

    private func shouldTrip(now: UInt64) -> Bool {
        let counts = window.counts(now: now)
        guard counts.requests >= policy.minRequests else { return false }
        let rate = Double(counts.failures) / Double(counts.requests)
        return policy.inclusive ? rate >= policy.errorRateThreshold : rate > policy.errorRateThreshold
    }

    private mutating func enter(_ next: State) {
        state = next
        generation &+= 1
        window.reset()
    }
}
