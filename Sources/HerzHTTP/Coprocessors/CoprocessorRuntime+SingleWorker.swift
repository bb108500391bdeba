import HerzCore
import HerzCoprocFilter
import Logging
import NIOCore

extension CoprocessorRuntime {
    /// The kernel's coprocessor runtime with one worker on `eventLoop` and no proxy around it (ring sizes come from each config's `ringBytes`): the
    /// exact supervisor thread, ring client, doorbell handling and failure policies `herz-kernel`
    /// runs, for programs that exercise or measure that path from outside a kernel (`bench/coproc`).
    ///
    /// Use: `start()`, wait until `status()` reports the coprocessor `ready`, then send calls on
    /// `eventLoop` through ``dispatcher(on:)``; `shutdown()` at the end. Metrics go to a private
    /// registry nobody scrapes.
    public static func singleWorker(coprocessors: [CoprocessorConfig], eventLoop: EventLoop,
                                    logger: Logger) throws -> CoprocessorRuntime {
        let config = HerzConfig(listeners: [], clusters: [], coprocessors: coprocessors)
        let snapshot = try ConfigSnapshot(config: config, generation: 1, previous: nil)
        let metrics = MetricsRegistry()
        let worker = Worker(index: 0, eventLoop: eventLoop, snapshot: snapshot, logger: logger,
                            metrics: HerzMetrics(shared: metrics))
        return CoprocessorRuntime(coprocessors: coprocessors, workers: [worker], metrics: metrics, logger: logger)
    }

    /// The call dispatcher of the worker running on `eventLoop` — the one the `coproc` filter of that
    /// worker's streams uses — or nil when no worker runs there. Use it only on `eventLoop`.
    public func dispatcher(on eventLoop: EventLoop) -> CoprocCallDispatcher? {
        dispatchers()[ObjectIdentifier(eventLoop)]
    }
}
