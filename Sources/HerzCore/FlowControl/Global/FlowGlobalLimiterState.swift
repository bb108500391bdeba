import NIOCore

/// One worker's global limits as a pure state machine: requests and store answers in, decisions
/// and store calls out (docs/flow-control.md, section 9). The I/O layer (`FlowGlobalLimiter` in
/// HerzHTTP) makes the calls, reports how they ended, and runs ``expire(now:)`` at
/// ``nextDeadline``; nothing here reads a clock or touches a socket.
///
/// Guarantees:
/// - every request is answered exactly once: at once (lease, cached refusal, open circuit, full
///   waiting room), when its key's store call ends, or by ``expire(now:)`` with
///   `on_store_failure` once `callTimeoutNanos` has passed since it asked — never later, never twice;
/// - a call counts as timed out once `callTimeoutNanos` has passed since it was made, whatever the
///   I/O layer reports: a later answer is ignored, its tokens are never used (the bound's `d`);
///   a request withdrawn with ``cancel(ticket:)`` is not answered;
/// - at most one store call per key and worker is out, and at most `maxWaiters` requests wait;
/// - leases keep the invariants of ``FlowGlobalLease`` (held tokens ≤ `N − 1` per key);
/// - the store's health is a ``FlowCircuitBreaker`` fed with every call's outcome: while it is open,
///   requests that need the store get `on_store_failure` without a call.
///
/// Owned by one event loop; a value type, so tests drive it through long event sequences.
public struct FlowGlobalLimiterState: Sendable {
    /// A request waiting for the store.
    struct Waiting: Sendable {
        let limit: FlowLimitID
        let value: String
        let cost: Int
        /// The lease it waits in; `.overflow` when its key found no room and it has a call of its own.
        let slot: FlowKeySlot
    }

    /// A store call in flight.
    struct Call: Sendable {
        let limit: FlowLimitID
        let slot: FlowKeySlot
        /// For `.overflow` calls: the one request the call is for.
        let ticket: UInt64?
        let permit: FlowCircuitBreaker.Permit
    }

    /// The time line of the state: when waiting requests and calls out run out of time.
    struct Deadline: Sendable {
        let id: UInt64
        let at: UInt64
    }

    public let configuration: FlowGlobalConfiguration
    public internal(set) var limits: [FlowGlobalLimit] = []
    public internal(set) var generation: UInt64 = 0
    /// The store's health (closed: calls go out; open: `on_store_failure` without calls).
    public internal(set) var storeCircuit: FlowCircuitBreaker
    var indexByID: [FlowLimitID: Int] = [:]
    var waiting: [UInt64: Waiting] = [:]
    var calls: [UInt64: Call] = [:]
    /// Waiting requests by ticket, and calls by id, in the order they expire (one timeout for all).
    var waiterDeadlines = CircularBuffer<Deadline>()
    var callDeadlines = CircularBuffer<Deadline>()
    var lastTicket: UInt64 = 0
    var lastCall: UInt64 = 0
    /// Answers made while handling an event that could return only its own request's answer;
    /// delivered by the next ``expire(now:)`` (``nextDeadline`` is then 0).
    var undelivered: [FlowGlobalAnswer] = []

    /// Requests waiting for the store now.
    public var waitingCount: Int { waiting.count }
    /// Store calls out now.
    public var callsInFlight: Int { calls.count }

    /// The handle of a global limit of these rules (nil for a local limit or an unknown one).
    public func handle(for id: FlowLimitID) -> FlowGlobalLimitHandle? {
        indexByID[id].map { FlowGlobalLimitHandle(index: $0, generation: generation) }
    }

    /// When ``expire(now:)`` should run next (nil: nobody waits, no call is out).
    public var nextDeadline: UInt64? {
        guard undelivered.isEmpty else { return 0 }
        return [waiterDeadlines.first?.at, callDeadlines.first?.at].compactMap { $0 }.min()
    }

    // MARK: - Events

    /// Asks for `cost` tokens (at least 1) of the budget `value` of a limit.
    public mutating func acquire(_ handle: FlowGlobalLimitHandle, key value: String, cost: Int = 1, now: UInt64) -> FlowGlobalAcquire {
        guard handle.generation == generation, limits.indices.contains(handle.index) else { return .decided(.admit(.noSuchLimit)) }
        defer { pruneDeadlines() }
        let index = handle.index, cost = max(1, cost)
        guard let bucket = limits[index].bucket else {
            return .decided(limits[index].fallbackDecision(value: value, cost: cost, reason: .unrepresentable, now: now))
        }
        guard cost <= bucket.burst else { return .decided(.limit(retryAfterNanos: .max, .lease)) }
        let slot = limits[index].leases.slot(for: value, now: now)
        if case .key = slot {
            switch limits[index].leases.withEntry(at: slot, { $0.spend(cost: cost, now: now) }) ?? .ask {
            case .spent: return .decided(.admit(.lease))
            case .limited(let wait): return .decided(.limit(retryAfterNanos: wait, .lease))
            case .ask: break
            }
        }
        guard waiting.count < configuration.maxWaiters else {
            return .decided(limits[index].fallbackDecision(value: value, cost: cost, reason: .overloaded, now: now))
        }
        lastTicket &+= 1
        let ticket = lastTicket
        let entry = Waiting(limit: limits[index].id, value: value, cost: cost, slot: slot)
        waiting[ticket] = entry
        waiterDeadlines.append(Deadline(id: ticket, at: now &+ configuration.callTimeoutNanos))
        var actions = FlowGlobalActions()
        if case .key = slot {
            limits[index].leases.withEntry(at: slot) { $0.enqueue(FlowGlobalLease.Waiter(ticket: ticket, cost: cost)) }
            startFetch(index, slot: slot, now: now, into: &actions)
        } else {
            startOwnCall(index, ticket: ticket, entry: entry, now: now, into: &actions)
        }
        undelivered += actions.answers.filter { $0.ticket != ticket }   // none while the lease invariants hold
        if let answer = actions.answers.first(where: { $0.ticket == ticket }) { return .decided(answer.decision) }
        return .waiting(ticket: ticket, fetch: actions.fetches.first)
    }

    /// Store call `id` ended: answer its waiters, and make the next call for waiters it did not cover.
    public mutating func fetchCompleted(_ id: UInt64, _ result: FlowGlobalFetchResult, now: UInt64) -> FlowGlobalActions {
        var actions = FlowGlobalActions()
        defer { pruneDeadlines() }
        guard let call = calls.removeValue(forKey: id) else { return actions }
        var failure: FlowGlobalStoreFailure?
        if case .failed(let reason) = result { failure = reason }
        _ = storeCircuit.record(call.permit, failure: failure != nil, now: now)
        guard let index = indexByID[call.limit] else { return actions }
        if let ticket = call.ticket {
            guard let entry = waiting.removeValue(forKey: ticket) else { return actions }
            switch result {
            case .granted(let grant) where grant.granted >= entry.cost: answer(ticket, .admit(.store), into: &actions)
            case .granted(let grant): answer(ticket, .limit(retryAfterNanos: grant.waitNanos, .store), into: &actions)
            case .failed(let reason): fallback(ticket, entry, index: index, reason: reason, now: now, into: &actions)
            }
            return actions
        }
        switch result {
        case .granted(let grant):
            let settlement = limits[index].leases.withEntry(at: call.slot) { $0.granted(grant, id: id, now: now) } ?? .init()
            for ticket in settlement.served where waiting.removeValue(forKey: ticket) != nil {
                answer(ticket, .admit(.store), into: &actions)
            }
            for refusal in settlement.refused where waiting.removeValue(forKey: refusal.ticket) != nil {
                answer(refusal.ticket, .limit(retryAfterNanos: refusal.retryAfterNanos, .store), into: &actions)
            }
            startFetch(index, slot: call.slot, now: now, into: &actions)
        case .failed(let reason):
            let waiters = limits[index].leases.withEntry(at: call.slot) { $0.failed(id: id) } ?? []
            for waiter in waiters {
                guard let entry = waiting.removeValue(forKey: waiter.ticket) else { continue }
                fallback(waiter.ticket, entry, index: index, reason: reason, now: now, into: &actions)
            }
        }
        return actions
    }

    /// Ends, as timed out, every call out for `callTimeoutNanos` (a failure for the store circuit;
    /// whatever it answers later is ignored), and answers with `on_store_failure` (reason
    /// ``FlowGlobalStoreFailure/timeout``) every request that has waited that long.
    public mutating func expire(now: UInt64) -> FlowGlobalActions {
        var actions = FlowGlobalActions()
        defer { pruneDeadlines() }
        actions.answers = undelivered
        undelivered.removeAll()
        while let first = callDeadlines.first, first.at <= now {
            callDeadlines.removeFirst()
            guard calls[first.id] != nil else { continue }
            let ended = fetchCompleted(first.id, .failed(.timeout), now: now)
            actions.answers += ended.answers
            actions.fetches += ended.fetches
        }
        while let first = waiterDeadlines.first, first.at <= now {
            waiterDeadlines.removeFirst()
            guard let entry = waiting.removeValue(forKey: first.id), let index = indexByID[entry.limit] else { continue }
            if case .key = entry.slot {
                _ = limits[index].leases.withEntry(at: entry.slot) { $0.removeWaiter(ticket: first.id) }
            }
            fallback(first.id, entry, index: index, reason: .timeout, now: now, into: &actions)
        }
        return actions
    }

    /// Withdraws a waiting request (its stream went away): it is not answered and takes no tokens.
    /// False when the ticket is not waiting (already answered or unknown).
    @discardableResult
    public mutating func cancel(ticket: UInt64) -> Bool {
        guard let entry = waiting.removeValue(forKey: ticket) else { return false }
        defer { pruneDeadlines() }
        if case .key = entry.slot, let index = indexByID[entry.limit] {
            _ = limits[index].leases.withEntry(at: entry.slot) { $0.removeWaiter(ticket: ticket) }
        }
        return true
    }

    // MARK: - Calls

    /// Starts the lease's next call if it has waiters and none is out; when the circuit refuses,
    /// its waiters get `on_store_failure` instead.
    private mutating func startFetch(_ index: Int, slot: FlowKeySlot, now: UInt64, into actions: inout FlowGlobalActions) {
        guard let lease = limits[index].leases.entry(at: slot), lease.fetch == nil, !lease.waiters.isEmpty,
              let bucket = limits[index].bucket else { return }
        guard case .allow(let permit) = storeCircuit.admit(now: now).verdict else {
            let waiters = limits[index].leases.withEntry(at: slot) { $0.takeWaiters() } ?? []
            for waiter in waiters {
                guard let entry = waiting.removeValue(forKey: waiter.ticket) else { continue }
                fallback(waiter.ticket, entry, index: index, reason: .circuitOpen, now: now, into: &actions)
            }
            return
        }
        lastCall &+= 1
        let id = lastCall
        guard let size = limits[index].leases.withEntry(at: slot, { $0.startFetch(id: id, now: now) }) ?? nil,
              case .key(let value) = slot else { return }
        track(Call(limit: limits[index].id, slot: slot, ticket: nil, permit: permit), id: id, now: now)
        actions.fetches.append(FlowGlobalFetch(id: id, key: limits[index].storeKey(value),
                                               arguments: FlowGlobalScript.arguments(bucket, want: size.want, need: size.need)))
    }

    /// A call for one request whose key found no room for a lease: exactly its cost, nothing held.
    private mutating func startOwnCall(_ index: Int, ticket: UInt64, entry: Waiting, now: UInt64, into actions: inout FlowGlobalActions) {
        guard let bucket = limits[index].bucket else { return }
        guard case .allow(let permit) = storeCircuit.admit(now: now).verdict else {
            waiting[ticket] = nil
            fallback(ticket, entry, index: index, reason: .circuitOpen, now: now, into: &actions)
            return
        }
        lastCall &+= 1
        track(Call(limit: entry.limit, slot: .overflow, ticket: ticket, permit: permit), id: lastCall, now: now)
        actions.fetches.append(FlowGlobalFetch(id: lastCall, key: limits[index].storeKey(entry.value),
                                               arguments: FlowGlobalScript.arguments(bucket, want: entry.cost, need: entry.cost)))
    }

    /// Drops the deadlines of requests already answered and calls already ended from the front,
    /// so that ``nextDeadline`` is a live one and the queues hold about what is live.
    mutating func pruneDeadlines() {
        while let first = waiterDeadlines.first, waiting[first.id] == nil { waiterDeadlines.removeFirst() }
        while let first = callDeadlines.first, calls[first.id] == nil { callDeadlines.removeFirst() }
    }

    private mutating func track(_ call: Call, id: UInt64, now: UInt64) {
        calls[id] = call
        callDeadlines.append(Deadline(id: id, at: now &+ configuration.callTimeoutNanos))
    }

    private mutating func fallback(_ ticket: UInt64, _ entry: Waiting, index: Int, reason: FlowGlobalStoreFailure, now: UInt64,
                                   into actions: inout FlowGlobalActions) {
        answer(ticket, limits[index].fallbackDecision(value: entry.value, cost: entry.cost, reason: reason, now: now), into: &actions)
    }

    private func answer(_ ticket: UInt64, _ decision: FlowGlobalDecision, into actions: inout FlowGlobalActions) {
        actions.answers.append(FlowGlobalAnswer(ticket: ticket, decision: decision))
    }
}
