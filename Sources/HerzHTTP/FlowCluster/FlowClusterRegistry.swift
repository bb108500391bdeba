import Atomics
import HerzCore
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The kernel-wide home of the cluster layer: one ``FlowClusterRuntime`` per `cluster "NAME" { … }`
/// block of the rules in force, keyed by the cluster's name, and the timer that recomputes weights.
///
/// Lives as long as the kernel, outside every ``ConfigSnapshot``: a reload that recreates a YAML
/// cluster's ``SharedCluster`` or rewrites the rules keeps each runtime whose name is still there
/// (``apply(_:clusters:)``), so an open breaker stays open and weights stay where they were.
/// Workers find their cluster's runtime with ``runtime(named:)`` whenever ``version`` moved (one
/// relaxed atomic load per pick otherwise). Thread-safe.
final class FlowClusterRegistry: @unchecked Sendable {
    let timing: FlowClusterTiming
    private let logger: Logger
    private let lock = NIOLock()
    private var runtimes: [String: FlowClusterRuntime] = [:]
    private var ticker: RepeatedTask?
    /// Bumped whenever a runtime is added or removed.
    let version = ManagedAtomic<Int>(0)

    init(timing: FlowClusterTiming = FlowClusterTiming(), logger: Logger) {
        self.timing = timing
        self.logger = logger
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// The runtime of cluster `name`, nil when no `cluster` block names it.
    func runtime(named name: String) -> FlowClusterRuntime? { lock.withLock { runtimes[name] } }

    /// Every runtime, by name.
    func all() -> [FlowClusterRuntime] { lock.withLock { runtimes.values.sorted { $0.name < $1.name } } }

    /// Installs the `cluster` blocks of a new config (start and every reload, after the snapshot
    /// swap). Runtimes of unchanged names are reconfigured in place; new names start fresh; names
    /// no longer there are dropped (their workers fall back to the configured weights).
    func apply(_ blocks: [FlowCluster], clusters: [String: SharedCluster]) {
        var kept: [String] = [], fresh: [String] = [], dropped: [String] = []
        let changed = lock.withLock { () -> Bool in
            var next: [String: FlowClusterRuntime] = [:]
            for block in blocks {
                guard let shared = clusters[block.name] else { continue }  // the config checker refuses this
                if let existing = runtimes[block.name] {
                    let notes = existing.reconfigure(to: block, shared: shared)
                    kept += notes.kept
                    fresh += notes.fresh
                    next[block.name] = existing
                } else {
                    next[block.name] = FlowClusterRuntime(cluster: block, shared: shared, timing: timing)
                    fresh += FlowClusterState().carriedOver(to: block).notes.fresh
                }
            }
            dropped = runtimes.keys.filter { next[$0] == nil }.sorted()
            let changed = Set(next.keys) != Set(runtimes.keys) || next.contains { runtimes[$0.key] !== $0.value }
            runtimes = next
            return changed
        }
        if changed { version.wrappingIncrement(ordering: .releasing) }
        if !(kept.isEmpty && fresh.isEmpty && dropped.isEmpty) {
            logger.info("flow cluster policies installed", metadata: [
                "kept": "\(kept.sorted().joined(separator: ","))", "fresh": "\(fresh.sorted().joined(separator: ","))",
                "dropped": "\(dropped.joined(separator: ","))",
            ])
        }
    }

    /// Starts the period timer on `eventLoop` (not a worker's: the tick takes each cluster's lock).
    func start(on eventLoop: EventLoop) {
        let period = TimeAmount.nanoseconds(Int64(timing.periodNanos))
        let task = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in
            self?.tick(now: FlowClusterRegistry.now())
        }
        lock.withLock { ticker = task }
    }

    func stop() {
        lock.withLock { ticker }?.cancel()
    }

    func tick(now: UInt64) {
        for runtime in all() {
            let (event, changed) = runtime.tick(now: now)
            if let event { log(event, cluster: runtime.name) }
            if !changed.isEmpty {
                logger.debug("flow weights changed", metadata: ["cluster": "\(runtime.name)", "endpoints": "\(changed.joined(separator: ","))"])
            }
        }
    }

    /// One log line per breaker transition (warning when it opens, info otherwise).
    func log(_ event: FlowClusterController.BreakerEvent, cluster: String) {
        let metadata: Logger.Metadata = [
            "cluster": "\(cluster)", "from": "\(event.from.rawValue)", "to": "\(event.to.rawValue)",
            "window_requests": "\(event.requests)", "window_failures": "\(event.failures)",
        ]
        if event.to == .open {
            logger.warning("flow breaker opened: requests to the cluster get 503 until it half-opens", metadata: metadata)
        } else {
            logger.info("flow breaker \(event.to.rawValue)", metadata: metadata)
        }
    }
}
