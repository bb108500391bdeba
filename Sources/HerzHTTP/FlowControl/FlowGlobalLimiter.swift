import HerzCore
import NIOCore

/// How ``FlowGlobalLimiter/acquire(_:key:cost:completion:)`` answered.
public enum FlowGlobalAcquireResult: Sendable, Equatable {
    /// Answered now (a lease covered it, the store refused the key moments ago, the store is down
    /// and `on_store_failure` decided, …); the completion is not called.
    case decided(FlowGlobalDecision)
    /// The completion will be called exactly once, on the event loop, after `acquire` has returned
    /// and within the call timeout — unless ``FlowGlobalLimiter/cancel(_:)`` withdraws the request first.
    case pending(ticket: UInt64)
}

/// One worker's global limits (`limit: { rate: …, scope: global }`), shared with every other
/// worker and kernel through Redis (docs/flow-control.md, section 9). The future `flow_control`
/// filter creates one per worker event loop and calls ``acquire(_:key:cost:completion:)`` for each
/// request and global limit it matches.
///
/// Guarantees: every request is answered exactly once, within ``FlowGlobalConfiguration/callTimeoutNanos``
/// (5 ms by default) plus event-loop latency, at once when a lease covers it; when Redis is slow,
/// down or answers nonsense, the limit's `on_store_failure` decides (and while the store circuit
/// is open, without waiting at all); admissions while the store answers stay within the
/// documented bound (``FlowGlobalBound``); memory is bounded (lease tables, waiting requests,
/// the connection's pipeline). The decisions are ``FlowGlobalLimiterState``'s; this class only runs
/// its actions: the Redis calls (``FlowRedisClient``, one connection per limiter) and one timer.
///
/// Event-loop owned: create it and call every method on ``eventLoop``.
public final class FlowGlobalLimiter {
    public let eventLoop: EventLoop
    private var state: FlowGlobalLimiterState
    private let client: FlowRedisClient
    private var completions: [UInt64: (FlowGlobalDecision) -> Void] = [:]
    private var timer: Scheduled<Void>?
    private var timerAt: UInt64?

    public init(rules: FlowRules, store: FlowRedisConfiguration, configuration: FlowGlobalConfiguration = FlowGlobalConfiguration(),
                eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        self.state = FlowGlobalLimiterState(rules: rules, configuration: configuration, now: Self.now())
        self.client = FlowRedisClient(configuration: store, callTimeout: .nanoseconds(Int64(configuration.callTimeoutNanos)),
                                      script: FlowGlobalScript.source, eventLoop: eventLoop)
    }

    /// The handle of a global limit of the current rules (resolve once per rules load).
    public func handle(for id: FlowLimitID) -> FlowGlobalLimitHandle? { state.handle(for: id) }

    /// Takes `cost` tokens of the budget `key` (the request's key attributes, ``FlowKey/value(for:)``).
    public func acquire(_ handle: FlowGlobalLimitHandle, key: String, cost: Int = 1,
                        completion: @escaping (FlowGlobalDecision) -> Void) -> FlowGlobalAcquireResult {
        eventLoop.assertInEventLoop()
        switch state.acquire(handle, key: key, cost: cost, now: Self.now()) {
        case .decided(let decision):
            return .decided(decision)
        case .waiting(let ticket, let fetch):
            // A call that fails at once (no connection, backing off) answers before we return:
            // that answer is returned, so the completion never runs inside `acquire`.
            var inline: FlowGlobalDecision?
            var returned = false
            completions[ticket] = { decision in
                if returned { completion(decision) } else { inline = decision }
            }
            if let fetch { send(fetch) }
            armTimer()
            returned = true
            return inline.map { .decided($0) } ?? .pending(ticket: ticket)
        }
    }

    /// Withdraws a pending request (its stream ended): its completion is never called.
    public func cancel(_ ticket: UInt64) {
        eventLoop.assertInEventLoop()
        if state.cancel(ticket: ticket) { completions[ticket] = nil }
    }

    /// Switches to new rules (see ``FlowGlobalLimiterState/reload(to:now:)``); handles must be resolved again.
    public func reload(to rules: FlowRules) -> FlowCarryOverReport {
        eventLoop.assertInEventLoop()
        let (report, actions) = state.reload(to: rules, now: Self.now())
        perform(actions)
        return report
    }

    /// Closes the connection; pending requests get `on_store_failure` now, later ones at once.
    public func shutdown() {
        eventLoop.assertInEventLoop()
        client.close()
        perform(state.expire(now: .max))
        timer?.cancel()
        timer = nil
        timerAt = nil
    }

    /// The state machine, for `/flow` and tests.
    public var snapshot: FlowGlobalLimiterState { state }

    // MARK: - Running actions

    private func send(_ fetch: FlowGlobalFetch) {
        client.evalScript(keys: [fetch.key], arguments: fetch.arguments) { [self] result in
            perform(state.fetchCompleted(fetch.id, Self.outcome(result), now: Self.now()))
        }
    }

    private func perform(_ actions: FlowGlobalActions) {
        for fetch in actions.fetches { send(fetch) }
        for answer in actions.answers { completions.removeValue(forKey: answer.ticket)?(answer.decision) }
        armTimer()
    }

    private func armTimer() {
        guard let next = state.nextDeadline, timerAt.map({ next < $0 }) ?? true else { return }
        timer?.cancel()
        timerAt = next
        timer = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(next)) { [self] in
            timer = nil
            timerAt = nil
            perform(state.expire(now: Self.now()))
        }
    }

    static func outcome(_ result: Result<RESPValue, FlowRedisCallError>) -> FlowGlobalFetchResult {
        switch result {
        case .success(let reply): return reply.integers.flatMap(FlowGlobalGrant.init(reply:)).map { .granted($0) } ?? .failed(.badReply)
        case .failure(.timeout): return .failed(.timeout)
        case .failure(.unavailable): return .failed(.unavailable)
        case .failure(.overloaded): return .failed(.overloaded)
        case .failure(.errorReply): return .failed(.badReply)
        }
    }

    private static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}
