import HerzCore
import NIOCore
import Synchronization

/// The kernel's one flow-control engine: the current ``FlowProgram`` and the local limits' state
/// (``FlowAdmissionState``), shared by every worker behind one lock, plus each worker's global
/// limiter (``FlowWorkerGlobals``).
///
/// State ownership (docs/flow-control.md, "The flow_control filter"): local limits are kernel-wide,
/// so `rate: 100/s` means 100/s whatever `--workers` says; the lock covers only the state update of
/// the few rules a request matched (matching and key building happen outside it). Global limits
/// are per worker (each worker has its own Redis connection and leases, as section 9 assumes).
///
/// Waiters (`delay` on a full concurrency limit) are woken on their own event loop: the engine
/// keeps, under the same lock, the callback each registered when it started to wait, so a slot
/// released on any worker reaches exactly one waiter. Thread-safe; every method may be called
/// from any thread.
public final class FlowControlEngine: Sendable {
    /// A waiting request's way back: run `wake` on `eventLoop`.
    struct Waker: Sendable {
        let eventLoop: EventLoop
        let wake: @Sendable () -> Void
    }

    private struct Locked: Sendable {
        var state: FlowAdmissionState
        var wakers: [UInt64: Waker] = [:]

        /// The wakers of `waiters` (removed: each wakes once).
        mutating func take(wakersOf waiters: [UInt64]) -> [Waker] {
            waiters.compactMap { wakers.removeValue(forKey: $0) }
        }
    }

    private let locked: Mutex<Locked>
    public let globals: FlowWorkerGlobals
    public let reloadStatus = FlowRulesReloadStatus()
    private let clock: @Sendable () -> UInt64

    public init(program: FlowProgram, globals: FlowWorkerGlobals = FlowWorkerGlobals(),
                clock: @escaping @Sendable () -> UInt64 = { NIODeadline.now().uptimeNanoseconds }) {
        self.locked = Mutex(Locked(state: FlowAdmissionState(program: program, now: clock())))
        self.globals = globals
        self.clock = clock
    }

    public var now: UInt64 { clock() }

    /// The program in force.
    public var program: FlowProgram { locked.withLock { $0.state.program } }

    /// ``FlowAdmissionState/admit(_:program:startedAt:now:)`` under the lock. When the answer is
    /// `.wait`, `waker` is registered in the same critical section (so no release can miss it) and
    /// the wait ticket is returned with it.
    func admit(_ match: FlowMatch, program: FlowProgram, startedAt: UInt64, waker: () -> Waker)
        -> (admission: FlowAdmission, ticket: FlowWaitTicket?) {
        let now = clock()
        let (admission, ticket, woken) = locked.withLock { locked in
            let admission = locked.state.admit(match, program: program, startedAt: startedAt, now: now)
            let woken = locked.take(wakersOf: locked.state.takeWakes())
            guard case .wait(_, let waiter, _) = admission else { return (admission, FlowWaitTicket?.none, woken) }
            locked.wakers[waiter] = waker()
            return (admission, locked.state.waitTicket(of: waiter), woken)
        }
        wake(woken)
        return (admission, ticket)
    }

    /// Decides `match` on the spot when that needs no wait, no store and no slot (the rules'
    /// ``FlowProgram/decidableOnHead``): true when the request passed — its tokens drawn and the
    /// rules' counters recorded, nothing to give back later. False when it did not pass or needs
    /// more: then nothing was taken and the `flow_control` filter decides it as usual.
    func admitAtOnce(_ match: FlowMatch, program: FlowProgram) -> Bool {
        let now = clock()
        let (admission, woken) = locked.withLock { locked -> (FlowAdmission, [Waker]) in
            var admission = locked.state.admit(match, program: program, startedAt: now, now: now)
            if case .wait(_, let waiter, _) = admission {   // not for decidable rules; withdraw all the same
                _ = locked.state.cancelWaiter(waiter)
                admission = .stale
            }
            return (admission, locked.take(wakersOf: locked.state.takeWakes()))
        }
        wake(woken)
        guard case .proceed(let grant) = admission else { return false }
        guard grant.globals.isEmpty, grant.delayNanos == 0, grant.hold.permits.allSatisfy({ $0.kind == .token }) else {
            giveBack(grant.hold)
            return false
        }
        program.recordPassed(match.rules, shadowed: grant.shadowedRules, delayed: [])
        return true
    }

    /// Gives back a request's tokens and slots (refusal after a draw, or the end of its stream),
    /// and wakes the waiters the released slots let in.
    func giveBack(_ hold: FlowHold) {
        guard !hold.isEmpty else { return }
        let now = clock()
        wake(locked.withLock { locked in
            locked.take(wakersOf: locked.state.giveBack(hold, now: now))
        })
    }

    /// Withdraws a waiter; false when it was woken already (its wake callback is on its way).
    func cancelWaiter(_ waiter: UInt64) -> Bool {
        locked.withLock { locked in
            locked.wakers[waiter] = nil
            return locked.state.cancelWaiter(waiter)
        }
    }

    /// A woken waiter that will not ask again passes the slot on to the next one.
    func passOnWake(of ticket: FlowWaitTicket) {
        wake(locked.withLock { locked in
            locked.take(wakersOf: locked.state.passOnWake(of: ticket).map { [$0] } ?? [])
        })
    }

    /// Switches to `program` carrying the state of unchanged limits; every waiter asks again.
    public func reload(to program: FlowProgram) -> FlowCarryOverReport {
        let now = clock()
        let (report, wakers) = locked.withLock { locked in
            let (report, woken) = locked.state.reload(to: program, now: now)
            return (report, locked.take(wakersOf: woken))
        }
        wake(wakers)
        return report
    }

    /// Reads the state under the lock (for `/flow`; keep `body` short).
    public func withState<T>(_ body: (FlowAdmissionState) -> T) -> T {
        locked.withLock { body($0.state) }
    }

    private func wake(_ wakers: [Waker]) {
        for waker in wakers { waker.eventLoop.execute(waker.wake) }
    }
}

/// How the rules' reloads went: counts and the last rejected rules file's errors (`file:line:col`
/// lines), for `/flow` and `herz_flow_rules_reloads_total` / `herz_flow_rules_last_error`. A
/// successful reload of new rules clears the last error. Thread-safe.
public final class FlowRulesReloadStatus: Sendable {
    public struct Figures: Sendable, Equatable {
        public var succeeded = 0
        public var failed = 0
        public var lastError: String?
    }

    private let figures = Mutex(Figures())

    public init() {}

    public var current: Figures { figures.withLock { $0 } }

    func succeeded() { figures.withLock { $0.succeeded += 1; $0.lastError = nil } }

    func failed(_ error: String) { figures.withLock { $0.failed += 1; $0.lastError = error } }
}
