import Foundation
import HerzCoproc
import HerzCoprocFilter
import HerzCore
import HerzHTTP
import Logging
import NIOCore
import NIOPosix

/// The kernel side of every ring measurement: the kernel's own coprocessor runtime (supervisor
/// thread, `WorkerCoprocClient` on one NIO event loop) attached to the coprocessor listening on
/// `path` under `name`, with calls sent through the worker's `CoprocCallDispatcher` exactly as the
/// `coproc` filter sends them. Nothing of the client is re-implemented here.
final class KernelRingClient: @unchecked Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let eventLoop: EventLoop
    private let runtime: CoprocessorRuntime
    private let dispatcher: CoprocCallDispatcher

    /// Starts the runtime, then retries `probe` (one call) until the coprocessor answers it: the
    /// supervisor reports `ready` before the worker's loop has taken the session.
    init(name: String, path: String, server: ServerProcess, probe: any RingWorkload, logger: Logger) throws {
        eventLoop = group.next()
        let config = CoprocessorConfig(name: name, endpoint: "unix:\(path)", timeout: .nanoseconds(Int64(BenchCall.timeoutNanos)))
        runtime = try CoprocessorRuntime.singleWorker(coprocessors: [config], eventLoop: eventLoop, logger: logger)
        guard let dispatcher = runtime.dispatcher(on: eventLoop) else { throw BenchError("the runtime has no worker on the loop") }
        self.dispatcher = dispatcher
        runtime.start()
        try server.waitUntil("a first call through the rings is answered") {
            (try? run(probe, window: 1, durationNanos: 0, pacer: nil, timed: false))?.calls == 1
        }
    }

    /// Runs `workload` with `window` calls outstanding for `durationNanos` (see ``RingLoad``).
    func run(_ workload: any RingWorkload, window: Int, durationNanos: UInt64, pacer: Pacer?, timed: Bool) throws -> Measurement {
        try eventLoop.flatSubmit { [self] in
            RingLoad(dispatcher: dispatcher, eventLoop: eventLoop, workload: workload, window: window, durationNanos: durationNanos,
                     pacer: pacer, timed: timed).run()
        }.wait()
    }

    func stop() {
        runtime.shutdown()
        try? group.syncShutdownGracefully()
    }
}
