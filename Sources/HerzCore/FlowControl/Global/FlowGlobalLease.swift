/// One worker's lease on one global bucket key: tokens taken from the store in a batch and spent
/// locally, the requests waiting for the store's answer, and what the store last said.
///
/// Invariants (the over-admission bound of docs/flow-control.md section 9 rests on them):
/// - at most one store call per key is in flight (``fetch``), so at most one grant is on its way;
/// - after every event, held ``tokens`` ≤ `cap − 1`: a grant is fetched only for a waiting request,
///   serves the waiters first, and whatever exceeds `cap − 1` after that is dropped;
/// - held tokens not spent within `lifetime` of the key's latest grant are dropped;
/// - a key the store refused stays refused locally (``limitedUntil``) only until the moment the store
///   said `need` tokens would be back, so the cache never refuses what the store would grant.
///
/// Batch size, adaptive between 1 and `cap`: a fetch asks for `max(batch, waiting cost − held)`;
/// `batch` doubles when the previous full grant was spent within its lifetime, halves when it
/// expired unspent, goes back to 1 after a partial or empty grant (the bucket is contended) and
/// after two lifetimes without a grant (a cold key). Cold keys therefore cost one store call per
/// request and hold nothing; hot keys cost one call per `cap` requests.
///
/// Pure value type owned by a ``FlowGlobalLimiterState``; time is an argument.
public struct FlowGlobalLease: Sendable, Equatable {
    /// The lease cap `N` and how long leased tokens stay spendable.
    public struct Policy: Sendable, Hashable {
        public var cap: Int
        public var lifetimeNanos: UInt64

        public init(cap: Int, lifetimeNanos: UInt64) {
            self.cap = max(1, cap)
            self.lifetimeNanos = max(1, lifetimeNanos)
        }
    }

    /// A request waiting for the store: its ticket and how many tokens it takes.
    public struct Waiter: Sendable, Equatable {
        public let ticket: UInt64
        public let cost: Int
    }

    /// What a request gets without asking the store.
    public enum Local: Sendable, Equatable {
        /// Paid from the lease.
        case spent
        /// The store refused this key moments ago and has no tokens for it yet.
        case limited(retryAfterNanos: UInt64)
        /// Ask the store: queue as a waiter (and start a fetch when none is in flight).
        case ask
    }

    /// A waiter the store had no tokens for, and when it will have them.
    public struct Refusal: Sendable, Equatable {
        public let ticket: UInt64
        public let retryAfterNanos: UInt64
    }

    /// What a finished store call did to the waiters (tickets in queue order).
    public struct Settlement: Sendable, Equatable {
        public var served: [UInt64] = []
        public var refused: [Refusal] = []
    }

    public private(set) var policy: Policy
    public private(set) var tokens = 0
    public private(set) var batch = 1
    public private(set) var waiters: [Waiter] = []
    /// The id of the store call in flight for this key, if any.
    public private(set) var fetch: UInt64?
    private var expiresAt: UInt64 = 0
    private var lastGrantAt: UInt64?
    private var lastGrantFull = false
    private var limitedUntil: UInt64 = 0
    private var limitedNeed = Int.max
    private var askedWant = 0
    private var askedNeed = 0

    public init(policy: Policy) { self.policy = policy }

    /// Tokens still spendable at `now`.
    public func held(now: UInt64) -> Int { now < expiresAt ? tokens : 0 }

    /// Pays `cost` from the lease, answers from the refusal cache, or says to ask the store. Never
    /// jumps the queue: while requests wait, a new one waits behind them.
    public mutating func spend(cost: Int, now: UInt64) -> Local {
        tokens = held(now: now)
        guard waiters.isEmpty else { return .ask }
        if tokens >= cost {
            tokens -= cost
            return .spent
        }
        if now < limitedUntil, cost - tokens >= limitedNeed { return .limited(retryAfterNanos: limitedUntil - now) }
        return .ask
    }

    public mutating func enqueue(_ waiter: Waiter) { waiters.append(waiter) }

    /// Removes a waiter (its deadline passed or its request went away); nil when it is not here.
    public mutating func removeWaiter(ticket: UInt64) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.ticket == ticket }) else { return nil }
        return waiters.remove(at: index)
    }

    /// Marks call `id` in flight and says how many tokens to ask for: `want` (what the waiters
    /// need beyond the lease, or the batch if larger) and `need` (what the first waiter needs; the
    /// store grants nothing rather than less). Nil when nobody waits or a call is already out.
    public mutating func startFetch(id: UInt64, now: UInt64) -> (want: Int, need: Int)? {
        guard fetch == nil, let first = waiters.first else { return nil }
        tokens = held(now: now)
        adaptBatch(now: now)
        let waiting = waiters.reduce(0) { $0 + $1.cost }
        let need = max(1, first.cost - tokens)
        askedWant = max(batch, waiting - tokens, need)
        askedNeed = need
        fetch = id
        return (askedWant, need)
    }

    /// The store granted `grant` for call `id`: serve the waiters in order, keep the rest (at most
    /// `cap − 1`), or refuse every waiter when nothing was granted. Waiters left unserved after a
    /// partial grant stay queued for the next call.
    public mutating func granted(_ grant: FlowGlobalGrant, id: UInt64, now: UInt64) -> Settlement {
        guard fetch == id else { return Settlement() }
        fetch = nil
        tokens = held(now: now) + grant.granted
        var settlement = Settlement()
        if grant.granted > 0 {
            expiresAt = now &+ policy.lifetimeNanos
            lastGrantAt = now
            lastGrantFull = grant.granted >= askedWant
            if !lastGrantFull { batch = 1 }
        }
        while let first = waiters.first, first.cost <= tokens {
            tokens -= first.cost
            settlement.served.append(waiters.removeFirst().ticket)
        }
        if grant.granted == 0 {
            batch = 1
            limitedUntil = now &+ grant.waitNanos
            limitedNeed = askedNeed
            settlement.refused = waiters.map { Refusal(ticket: $0.ticket, retryAfterNanos: grant.waitNanos) }
            waiters.removeAll()
        }
        tokens = min(tokens, policy.cap - 1)
        return settlement
    }

    /// Call `id` failed: every waiter is handed back (for `on_store_failure`); the lease keeps its tokens.
    public mutating func failed(id: UInt64) -> [Waiter] {
        guard fetch == id else { return [] }
        fetch = nil
        return takeWaiters()
    }

    /// Hands back every waiter (no call could be made for them); the lease keeps its tokens.
    public mutating func takeWaiters() -> [Waiter] {
        defer { waiters.removeAll() }
        return waiters
    }

    private mutating func adaptBatch(now: UInt64) {
        guard let last = lastGrantAt else { return }
        let age = now >= last ? now - last : 0
        if age >= policy.lifetimeNanos &* 2 {
            batch = 1
        } else if age >= policy.lifetimeNanos {
            batch = max(1, batch / 2)
        } else if lastGrantFull {
            batch = min(policy.cap, batch * 2)
        }
    }
}

extension FlowGlobalLease: FlowKeyedState {
    public init(configuration: Policy, now: UInt64) { self.init(policy: configuration) }

    /// Nothing held, nobody waiting, no call out, no refusal cached, and cold enough that the next
    /// fetch would start at batch 1: a fresh lease behaves the same.
    public func isPristine(now: UInt64) -> Bool {
        waiters.isEmpty && fetch == nil && held(now: now) == 0 && now >= limitedUntil
            && (lastGrantAt.map { now >= $0 && now - $0 >= policy.lifetimeNanos &* 2 } ?? true)
    }

    /// The same lease under a new cap or lifetime: it keeps its waiters and call, and at most
    /// `cap − 1` tokens.
    public func reconfigured(to configuration: Policy, now: UInt64) -> FlowGlobalLease {
        var lease = self
        lease.policy = configuration
        lease.tokens = min(tokens, configuration.cap - 1)
        lease.batch = min(batch, configuration.cap)
        return lease
    }
}
