import HerzCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The `flow_control` filter of one stream: matches the request head against the flow rules and
/// carries out the engine's decision (docs/flow-control.md, "The flow_control filter").
///
/// - local limits: one call to the engine (all-or-nothing across every matching rule);
/// - then the global limits, in rule order, on this worker's limiter (a refusal gives back every
///   local token and slot the request took; a global token once granted is spent);
/// - then a `delay` (tokens reserved ahead) on a timer of this event loop; a `delay` rule that
///   finds a concurrency limit full waits, bounded, to be woken by a release or its deadline; a
///   `delay` rule refused by the store waits the store's wait and asks again, within its `max`;
/// - a refusal is a local reply with the rule's status, `retry-after`, and `x-herz-flow-rule`.
///
/// Concurrency slots are released exactly once: when the stream ends, whatever ends it (complete,
/// reset, a local reply of any filter). While the request is held, its head waits in the filter
/// manager (`stopIteration`) and its body buffers there under the listener's buffer limit.
///
/// Owned by the stream's event loop.
final class FlowControlFilter: HTTPFilter {
    private enum Phase { case idle, deciding, passed, refused, done }

    private let engine: FlowControlEngine
    private let streamInfo: StreamInfo
    private var callbacks: FilterCallbacks?
    private var eventLoop: EventLoop?
    private var head: HTTPRequestHead?
    private var program: FlowProgram?
    private var match = FlowMatch()
    private var startedAt: UInt64 = 0
    private var phase = Phase.idle
    private var inCallback = false
    /// Local permits of a grant whose global limits are still being asked (all given back on refusal).
    private var grant: FlowGrant?
    private var nextGlobal = 0
    private var globalTicket: (worker: FlowWorkerGlobal, ticket: UInt64)?
    private var waiter: (id: UInt64, rule: Int, ticket: FlowWaitTicket?)?
    private var timer: Scheduled<Void>?
    /// Slots kept until the stream ends.
    private var slots: FlowHold?
    /// Rules that held the request (counted `delayed`).
    private var waited: [Int] = []

    init(engine: FlowControlEngine, streamInfo: StreamInfo) {
        self.engine = engine
        self.streamInfo = streamInfo
    }

    func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        let program = engine.program
        guard !program.isEmpty else { return .continue }
        program.match(FlowHTTPRequest(head: head, info: streamInfo), into: &match)
        // Filters always run on a worker's event loop; off one (no timers to hold a request) it passes.
        guard !match.rules.isEmpty, let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return .continue }
        self.program = program
        self.head = head
        self.callbacks = callbacks
        self.eventLoop = loop
        startedAt = engine.now
        phase = .deciding
        inCallback = true
        decide()
        inCallback = false
        return phase == .passed ? .continue : .stopIteration
    }

    func onStreamComplete() {
        timer?.cancel()
        timer = nil
        if let pending = globalTicket { pending.worker.cancel(pending.ticket) }
        globalTicket = nil
        if let grant { engine.giveBack(grant.hold) }
        grant = nil
        if let waiter, phase == .deciding, !engine.cancelWaiter(waiter.id), let ticket = waiter.ticket {
            engine.passOnWake(of: ticket)   // woken, but will never ask: the slot goes to the next waiter
        }
        waiter = nil
        if let slots { engine.giveBack(slots) }
        slots = nil
        phase = .done
        callbacks = nil
    }

    // MARK: - Deciding

    /// Asks the engine about the local limits (again after a wait).
    private func decide() {
        guard phase == .deciding, var program else { return }
        while true {
            let (admission, ticket) = engine.admit(match, program: program, startedAt: startedAt) { makeWaker() }
            switch admission {
            case .stale:
                program = engine.program
                self.program = program
                program.match(FlowHTTPRequest(head: head!, info: streamInfo), into: &match)
                if match.rules.isEmpty { return pass(delay: 0) }
                continue
            case .reject(let rule, let status, let retryAfter):
                return refuse(rule: rule, status: status, retryAfter: retryAfter)
            case .wait(let rule, let id, let deadline):
                note(waited: rule)
                waiter = (id, rule, ticket)
                schedule(at: deadline) { $0.waitTimedOut() }
                return
            case .proceed(let granted):
                grant = granted
                nextGlobal = 0
                return askGlobals()
            }
        }
    }

    /// Asks the grant's global limits one after the other; then lets the request through.
    private func askGlobals() {
        guard let program, let asks = grant?.globals else { return }
        while nextGlobal < asks.count {
            let ask = asks[nextGlobal]
            guard let worker = engine.globals.current else {
                nextGlobal += 1   // not on a worker (never in the kernel): no store to ask
                continue
            }
            let result = worker.acquire(ask, program: program) { [weak self] decision in self?.globalAnswered(decision) }
            switch result {
            case .pending(let ticket):
                globalTicket = (worker, ticket)
                return
            case .decided(let decision):
                guard accept(decision, for: ask) else { return }
                nextGlobal += 1
            }
        }
        guard let granted = grant else { return }
        grant = nil
        slots = granted.hold.slots
        for rule in granted.delayedRules { note(waited: rule) }
        pass(delay: granted.delayNanos, shadowed: granted.shadowedRules)
    }

    private func globalAnswered(_ decision: FlowGlobalDecision) {
        guard phase == .deciding, globalTicket != nil, let asks = grant?.globals, nextGlobal < asks.count else { return }
        globalTicket = nil
        guard accept(decision, for: asks[nextGlobal]) else { return }
        nextGlobal += 1
        askGlobals()
    }

    /// Whether the request goes on after a global limit's decision; on a refusal the local permits
    /// are given back and the rule's `on_limit` applies (a `delay` rule asks again after the
    /// store's wait if that fits its `max`).
    private func accept(_ decision: FlowGlobalDecision, for ask: FlowGlobalAsk) -> Bool {
        guard case .limit(let wait, _) = decision, let program else { return true }
        let rule = program.rules.rules[ask.rule]
        switch rule.onLimit {
        case .shadow:
            if grant?.shadowedRules.contains(ask.rule) == false { grant?.shadowedRules.append(ask.rule) }
            return true
        case .reject(let status, let retryAfter):
            givePermitsBack()
            refuse(rule: ask.rule, status: status, retryAfter: retryAfter.seconds(waitNanos: wait))
        case .delay(let max):
            givePermitsBack()
            let now = engine.now
            let deadline = startedAt &+ UInt64(Swift.max(0, max.nanoseconds))
            if wait < UInt64.max / 2, now &+ wait <= deadline {
                note(waited: ask.rule)
                schedule(at: now &+ wait) { $0.decide() }
            } else {
                refuse(rule: ask.rule, status: 429, retryAfter: FlowRetryAfter.auto.seconds(waitNanos: wait))
            }
        }
        return false
    }

    private func givePermitsBack() {
        if let grant { engine.giveBack(grant.hold) }
        grant = nil
    }

    // MARK: - Waiting

    private func makeWaker() -> FlowControlEngine.Waker {
        let loop = eventLoop!   // set before the first admit
        let bound = NIOLoopBound(self, eventLoop: loop)
        return FlowControlEngine.Waker(eventLoop: loop) { bound.value.woken() }
    }

    /// A slot was released for us (or the rules changed): ask again.
    private func woken() {
        guard phase == .deciding, waiter != nil else { return }
        waiter = nil
        timer?.cancel()
        timer = nil
        decide()
    }

    private func waitTimedOut() {
        guard phase == .deciding, let waiter else { return }
        // Still queued: give up. Already woken: its wake is on the way and will ask again (and be
        // refused, its deadline having passed, unless a slot is free).
        guard engine.cancelWaiter(waiter.id) else { return }
        self.waiter = nil
        refuse(rule: waiter.rule, status: 429, retryAfter: 1)
    }

    private func schedule(at deadline: UInt64, _ action: @escaping (FlowControlFilter) -> Void) {
        guard let loop = eventLoop else { return }
        timer?.cancel()
        let bound = NIOLoopBound(self, eventLoop: loop)
        timer = loop.scheduleTask(deadline: .uptimeNanoseconds(deadline)) {
            let filter = bound.value
            filter.timer = nil
            action(filter)
        }
    }

    // MARK: - Outcomes

    private func note(waited rule: Int) {
        if !waited.contains(rule) { waited.append(rule) }
    }

    private func pass(delay: UInt64, shadowed: [Int] = []) {
        program?.recordPassed(match.rules, shadowed: shadowed, delayed: waited)
        if delay > 0 {
            schedule(at: engine.now &+ delay) { $0.resume() }
        } else {
            resume()
        }
    }

    private func resume() {
        guard phase == .deciding else { return }
        phase = .passed
        if !inCallback { callbacks?.continueDecoding() }
    }

    private func refuse(rule: Int, status: Int, retryAfter: Int?) {
        guard phase == .deciding else { return }
        phase = .refused
        let name = program.map { $0.rules.rules[rule].name } ?? ""
        program?.counters[rule].record(.limited)
        var headers = HTTPHeaders()
        if let retryAfter { headers.add(name: "retry-after", value: String(retryAfter)) }
        headers.add(name: "x-herz-flow-rule", value: name)
        callbacks?.sendLocalReply(status: HTTPResponseStatus(statusCode: status), body: "limited by flow rule \(name)\n", headers: headers)
    }
}
