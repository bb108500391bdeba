import NIOCore

/// The local limits of the current ``FlowProgram`` and the decision the `flow_control` filter
/// makes for one request, as a pure state machine (time is an argument; no lock, no timer).
///
/// Per request (``admit(_:program:startedAt:now:)``), for each matching rule in declaration order:
/// draw on each of its local limits (a token of each rate limit — reserved ahead with a wait for
/// `delay` rules — and a slot of each concurrency limit). If one refuses, the rule's earlier draws
/// are given back and the rule's `on_limit` applies: `shadow` counts and goes on with the next
/// rule; `reject` and `delay` give back everything the request took from earlier rules too, so a
/// refused request costs no budget anywhere (all-or-nothing). Global limits are not drawn here:
/// they come back in the grant, to be asked last.
///
/// Guarantees: every token and slot taken is either in the returned grant's hold or given back
/// before `admit` returns; ``giveBack(_:now:)`` releases each permit at most once per call and
/// never drives a count negative; waiters are bounded (``maxWaiters``) and each is woken at most
/// once. Owned by whoever serialises access (the kernel keeps one behind a lock, shared by every
/// worker, so a limit means the same whatever the number of workers).
public struct FlowAdmissionState: Sendable {
    public private(set) var program: FlowProgram
    /// By flat limit number; nil for global limits without a local table.
    private var limiters: [FlowRuntimeState.Limiter?]
    private var waiters: [WaitKey: CircularBuffer<UInt64>] = [:]
    private var waiterKeys: [UInt64: WaitKey] = [:]
    private var lastWaiter: UInt64 = 0
    /// Waiters woken by slots a refusal gave back inside ``admit(_:program:startedAt:now:)``;
    /// collect them with ``takeWakes()`` after every admit.
    private var pendingWakes: [UInt64] = []
    public let maxWaiters: Int
    private let maxKeysPerLimit: Int

    /// A concurrency limit's budget that requests wait on.
    struct WaitKey: Hashable, Sendable {
        let limit: Int
        let slot: FlowKeySlot
    }

    public init(program: FlowProgram, now: UInt64, maxWaiters: Int = 10_000, maxKeysPerLimit: Int = 100_000) {
        self.program = program
        self.maxWaiters = max(1, maxWaiters)
        self.maxKeysPerLimit = maxKeysPerLimit
        let state = FlowRuntimeState(rules: program.rules, now: now, maxKeysPerLimit: maxKeysPerLimit)
        self.limiters = program.limitIDs.map { state.limiters[$0] }
    }

    /// Requests waiting for a concurrency slot now.
    public var waiterCount: Int { waiterKeys.count }

    // MARK: - Admission

    /// Decides `match` (matched under `program`; `.stale` if that is no longer the current one).
    /// `startedAt` is when the request first asked: a `delay(max: D)` rule holds it until
    /// `startedAt + D` at most.
    public mutating func admit(_ match: FlowMatch, program: FlowProgram, startedAt: UInt64, now: UInt64) -> FlowAdmission {
        guard program === self.program else { return .stale }
        var permits: [FlowPermit] = []
        var grant = FlowGrant(hold: FlowHold(program: program), delayNanos: 0, delayedRules: [], shadowedRules: [], globals: [])
        var keyCursor = 0
        for number in match.rules {
            let rule = program.rules.rules[number]
            let first = program.limitStart[number]
            let keys = keyCursor
            keyCursor += rule.limits.count
            var deadline: UInt64 = 0
            if case .delay(let max) = rule.onLimit { deadline = startedAt &+ UInt64(Swift.max(0, max.nanoseconds)) }
            let maxDelay = deadline > now ? deadline - now : 0
            let before = permits.count
            var refusal: Refusal?
            var ruleDelay: UInt64 = 0
            var asks: [FlowGlobalAsk] = []
            for (offset, limit) in rule.limits.enumerated() {
                let key = keys + offset < match.keys.count ? match.keys[keys + offset] : ""
                if case .global = limit.scope {
                    asks.append(FlowGlobalAsk(rule: number, id: program.limitIDs[first + offset], key: key))
                    continue
                }
                switch draw(limit: first + offset, key: key, maxDelay: maxDelay, now: now) {
                case .taken(let permit, let wait):
                    permits.append(permit)
                    ruleDelay = max(ruleDelay, wait)
                case .refused(let why):
                    refusal = why
                }
                if refusal != nil { break }
            }
            guard let refusal else {
                if ruleDelay > 0 { grant.delayedRules.append(number) }
                grant.delayNanos = max(grant.delayNanos, ruleDelay)
                grant.globals += asks
                continue
            }
            giveBackDraws(permits[before...], now: now)
            permits.removeSubrange(before...)
            if rule.onLimit == .shadow {
                grant.shadowedRules.append(number)
                continue
            }
            giveBackDraws(permits[...], now: now)
            return refuse(number, rule.onLimit, refusal, deadline: deadline, now: now)
        }
        grant.hold.permits = permits
        return .proceed(grant)
    }

    /// Why a limit refused: a rate limit's wait, or a full concurrency limit.
    enum Refusal {
        case rate(waitNanos: UInt64)
        case concurrency(WaitKey)
    }

    private enum Draw {
        case taken(FlowPermit, waitNanos: UInt64)
        case refused(Refusal)
    }

    private mutating func draw(limit: Int, key: String, maxDelay: UInt64, now: UInt64) -> Draw {
        switch limiters[limit] {
        case .rate(var table)?:
            limiters[limit] = nil   // one owner while it changes: no copy of the table
            defer { limiters[limit] = .rate(table) }
            let slot = table.slot(for: key, now: now)
            switch table.withEntry(at: slot, { $0.acquire(now: now, maxDelayNanos: maxDelay) }) ?? .admit {
            case .admit: return .taken(FlowPermit(kind: .token, limit: limit, slot: slot), waitNanos: 0)
            case .admitAfter(let wait): return .taken(FlowPermit(kind: .token, limit: limit, slot: slot), waitNanos: wait)
            case .limit(let wait): return .refused(.rate(waitNanos: wait))
            }
        case .concurrency(var table)?:
            limiters[limit] = nil
            defer { limiters[limit] = .concurrency(table) }
            let slot = table.slot(for: key, now: now)
            guard table.withEntry(at: slot, { $0.tryAcquire() }) ?? true else {
                return .refused(.concurrency(WaitKey(limit: limit, slot: slot)))
            }
            return .taken(FlowPermit(kind: .slot, limit: limit, slot: slot), waitNanos: 0)
        case nil:
            return .taken(FlowPermit(kind: .token, limit: limit, slot: .overflow), waitNanos: 0)
        }
    }

    private mutating func refuse(_ rule: Int, _ onLimit: FlowOnLimit, _ refusal: Refusal, deadline: UInt64, now: UInt64) -> FlowAdmission {
        let waitNanos: UInt64
        switch refusal {
        case .rate(let wait): waitNanos = wait
        case .concurrency: waitNanos = 1_000_000_000   // unknown: as long as the requests in flight take; say 1 s
        }
        switch onLimit {
        case .reject(let status, let retryAfter):
            return .reject(rule: rule, status: status, retryAfter: retryAfter.seconds(waitNanos: waitNanos))
        case .delay, .shadow:   // (shadow rules never get here: their refusals let the request on)
            if case .concurrency(let key) = refusal, deadline > now, waiterKeys.count < maxWaiters {
                lastWaiter &+= 1
                waiters[key, default: CircularBuffer()].append(lastWaiter)
                waiterKeys[lastWaiter] = key
                return .wait(rule: rule, waiter: lastWaiter, deadline: deadline)
            }
            return .reject(rule: rule, status: 429, retryAfter: FlowRetryAfter.auto.seconds(waitNanos: waitNanos))
        }
    }

    // MARK: - Giving back

    /// Gives back `hold`'s permits: tokens return to their buckets (a refusal after they were
    /// taken), slots are released (the stream ended, or a refusal). Permits taken under an older
    /// program go to the limit of the same identity, if the current rules still have it. Returns
    /// the waiters to wake: one per released slot that someone waits on.
    public mutating func giveBack(_ hold: FlowHold, now: UInt64) -> [UInt64] {
        guard !hold.permits.isEmpty else { return takeWakes() }
        if hold.program === program {
            giveBackDraws(hold.permits[...], now: now)
        } else {
            let translated = hold.permits.compactMap { permit -> FlowPermit? in
                guard hold.program.limitIDs.indices.contains(permit.limit),
                      let number = program.limitNumbers[hold.program.limitIDs[permit.limit]] else { return nil }
                return FlowPermit(kind: permit.kind, limit: number, slot: permit.slot)
            }
            giveBackDraws(translated[...], now: now)
        }
        return takeWakes()
    }

    /// The waiters woken since the last call (by slots given back), in order.
    public mutating func takeWakes() -> [UInt64] {
        defer { pendingWakes.removeAll() }
        return pendingWakes
    }

    private mutating func giveBackDraws(_ permits: ArraySlice<FlowPermit>, now: UInt64) {
        for permit in permits.reversed() {
            switch (permit.kind, limiters[permit.limit]) {
            case (.token, .rate(var table)?):
                limiters[permit.limit] = nil
                table.withEntry(at: permit.slot) { $0.refund(now: now) }
                limiters[permit.limit] = .rate(table)
            case (.slot, .concurrency(var table)?):
                limiters[permit.limit] = nil
                let released = table.withEntry(at: permit.slot) { $0.release() } ?? false
                limiters[permit.limit] = .concurrency(table)
                if released, let waiter = popWaiter(WaitKey(limit: permit.limit, slot: permit.slot)) { pendingWakes.append(waiter) }
            default:
                break
            }
        }
    }

    // MARK: - Waiters

    /// Withdraws `waiter` (its stream ended or its deadline passed). False when it is no longer
    /// waiting: it was woken already (then call ``passOnWake(of:)`` if it will not ask again, so the
    /// slot it was woken for goes to the next waiter).
    public mutating func cancelWaiter(_ waiter: UInt64) -> Bool {
        guard let key = waiterKeys.removeValue(forKey: waiter) else { return false }
        if var queue = waiters.removeValue(forKey: key) {
            if let position = queue.firstIndex(of: waiter) { queue.remove(at: position) }
            if !queue.isEmpty { waiters[key] = queue }
        }
        return true
    }

    /// A woken waiter that will not ask again hands its wake to the next waiter of the same limit
    /// and key; returns that waiter, if any (nil as well when the rules changed: a reload woke
    /// every waiter already).
    public mutating func passOnWake(of key: FlowWaitTicket) -> UInt64? {
        guard key.program === program else { return nil }
        return popWaiter(WaitKey(limit: key.limit, slot: key.slot))
    }

    /// Where `waiter` waits (to pass its wake on later); nil when it does not wait.
    public func waitTicket(of waiter: UInt64) -> FlowWaitTicket? {
        waiterKeys[waiter].map { FlowWaitTicket(program: program, limit: $0.limit, slot: $0.slot) }
    }

    private mutating func popWaiter(_ key: WaitKey) -> UInt64? {
        guard var queue = waiters.removeValue(forKey: key) else { return nil }
        let first = queue.removeFirst()
        if !queue.isEmpty { waiters[key] = queue }
        waiterKeys[first] = nil
        return first
    }

    // MARK: - Reload and views

    /// Switches to `next`, carrying the state of every limit whose identity is unchanged
    /// (``FlowRuntimeState/carriedOver(to:now:)``). Every waiter is woken (returned) to ask again
    /// under the new rules.
    public mutating func reload(to next: FlowProgram, now: UInt64) -> (report: FlowCarryOverReport, woken: [UInt64]) {
        var old = FlowRuntimeState(rules: FlowRules(rules: [], clusters: []), now: now, maxKeysPerLimit: maxKeysPerLimit)
        for (number, limiter) in limiters.enumerated() {
            if let limiter { old.limiters[program.limitIDs[number]] = limiter }
        }
        let (state, report) = old.carriedOver(to: next.rules, now: now)
        limiters = next.limitIDs.map { state.limiters[$0] }
        program = next
        let woken = waiterKeys.keys.sorted()
        waiters.removeAll()
        waiterKeys.removeAll()
        return (report, woken)
    }

    /// The local state of limit `number` (for `/flow`).
    public func limiter(_ number: Int) -> FlowRuntimeState.Limiter? {
        limiters.indices.contains(number) ? limiters[number] : nil
    }
}

/// Where a waiter waited: enough to pass its wake on (``FlowAdmissionState/passOnWake(of:)``).
public struct FlowWaitTicket: Sendable {
    let program: FlowProgram
    let limit: Int
    let slot: FlowKeySlot
}
