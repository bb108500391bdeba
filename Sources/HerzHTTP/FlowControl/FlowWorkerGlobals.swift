import Atomics
import HerzCore
import NIOCore
import NIOPosix

/// Each worker's ``FlowWorkerGlobal`` (its `FlowGlobalLimiter`), found by the event loop a stream
/// runs on. Filled once while the kernel is built, before any stream exists; read-only afterwards.
public final class FlowWorkerGlobals: @unchecked Sendable {
    private var byLoop: [ObjectIdentifier: FlowWorkerGlobal] = [:]
    public let counters = FlowGlobalCounters()

    public init() {}

    /// One global limiter slot per event loop (call before serving).
    public func install(eventLoops: [EventLoop]) {
        byLoop = Dictionary(uniqueKeysWithValues: eventLoops.map { (ObjectIdentifier($0), FlowWorkerGlobal(eventLoop: $0, counters: counters)) })
    }

    /// The worker whose event loop runs now; nil off the workers.
    public var current: FlowWorkerGlobal? {
        MultiThreadedEventLoopGroup.currentEventLoop.flatMap { byLoop[ObjectIdentifier($0)] }
    }

    public var all: [FlowWorkerGlobal] { Array(byLoop.values) }
}

/// One worker's global limits: a `FlowGlobalLimiter` for the store of the program it last saw,
/// created on first use and brought up to a newer program lazily, on the worker's own event loop
/// (so no reload ever races a request of that worker). A new store address makes a new limiter;
/// the old one is shut down (its pending requests get `on_store_failure`).
///
/// Event-loop owned: every method runs on ``eventLoop``.
public final class FlowWorkerGlobal {
    public let eventLoop: EventLoop
    let counters: FlowGlobalCounters
    private(set) var limiter: FlowGlobalLimiter?
    private var store: FlowStoreConfig?
    private var generation: UInt64 = 0
    private var handles: [FlowLimitID: FlowGlobalLimitHandle] = [:]

    init(eventLoop: EventLoop, counters: FlowGlobalCounters) {
        self.eventLoop = eventLoop
        self.counters = counters
    }

    /// Asks the store (or this worker's lease) for one token of `ask`'s budget. The completion
    /// runs at most once, later, on this event loop (see ``FlowGlobalLimiter``).
    func acquire(_ ask: FlowGlobalAsk, program: FlowProgram, completion: @escaping (FlowGlobalDecision) -> Void) -> FlowGlobalAcquireResult {
        sync(to: program)
        guard let limiter, let handle = handles[ask.id] else { return .decided(.admit(.noSuchLimit)) }
        let counters = self.counters
        let result = limiter.acquire(handle, key: ask.key) { decision in
            counters.record(decision)
            completion(decision)
        }
        if case .decided(let decision) = result { counters.record(decision) }
        return result
    }

    func cancel(_ ticket: UInt64) { limiter?.cancel(ticket) }

    /// The limiter's state machine (for `/flow`).
    var snapshot: FlowGlobalLimiterState? { limiter?.snapshot }

    func shutdown() {
        limiter?.shutdown()
        limiter = nil
    }

    private func sync(to program: FlowProgram) {
        guard program.generation > generation else { return }
        generation = program.generation
        if program.store != store {
            limiter?.shutdown()
            limiter = nil
            store = program.store
        }
        let hasGlobals = program.rules.rules.contains { $0.limits.contains { if case .global = $0.scope { true } else { false } } }
        if let limiter {
            _ = limiter.reload(to: program.rules)
        } else if let store, hasGlobals {
            limiter = FlowGlobalLimiter(rules: program.rules, store: store.redisConfiguration, configuration: store.globalConfiguration,
                                        eventLoop: eventLoop)
        }
        handles = [:]
        guard let limiter else { return }
        for id in program.limitIDs { if let handle = limiter.handle(for: id) { handles[id] = handle } }
    }
}

extension FlowStoreConfig {
    /// The connection settings of `flow_control.store`.
    var redisConfiguration: FlowRedisConfiguration {
        FlowRedisConfiguration(host: address.host, port: address.port, username: username, password: password)
    }

    /// The limiter knobs of `flow_control.store` (call timeout, lease cap); the rest at their defaults.
    var globalConfiguration: FlowGlobalConfiguration {
        FlowGlobalConfiguration(callTimeoutNanos: UInt64(max(0, callTimeout.nanoseconds)), maxBatch: maxBatch)
    }
}

/// Global-limit decisions of every worker by what they rest on, for
/// `herz_flow_global_decisions_total{basis, decision}`. Relaxed atomics; read at scrape time.
public final class FlowGlobalCounters: Sendable {
    /// `lease`, `store`, `store_failure.REASON`, `no_such_limit`: every basis a decision can have.
    public static let bases: [String] = ["lease", "store"] + FlowGlobalStoreFailure.allCases.map { "store_failure." + snakeCase($0.rawValue) }
        + ["no_such_limit"]
    private let admitted = FlowGlobalCounters.bases.map { _ in ManagedAtomic<Int>(0) }
    private let limited = FlowGlobalCounters.bases.map { _ in ManagedAtomic<Int>(0) }

    public init() {}

    func record(_ decision: FlowGlobalDecision) {
        let slot = Self.slot(decision.basis)
        (decision.isAdmitted ? admitted : limited)[slot].wrappingIncrement(ordering: .relaxed)
    }

    /// `(basis, admitted, limited)` rows in ``bases`` order.
    public var rows: [(basis: String, admitted: Int, limited: Int)] {
        Self.bases.indices.map { (Self.bases[$0], admitted[$0].load(ordering: .relaxed), limited[$0].load(ordering: .relaxed)) }
    }

    /// `circuitOpen` → `circuit_open`.
    static func snakeCase(_ name: String) -> String {
        name.reduce(into: "") { out, character in
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
    }

    private static func slot(_ basis: FlowGlobalDecision.Basis) -> Int {
        switch basis {
        case .lease: return 0
        case .store: return 1
        case .storeFailure(let reason): return 2 + (FlowGlobalStoreFailure.allCases.firstIndex(of: reason) ?? 0)
        case .noSuchLimit: return bases.count - 1
        }
    }
}
