import Foundation
import HerzCoproc
import HerzCoprocFilter
import HerzCore
import HerzHTTP
import Logging
import NIOCore
import NIOPosix

/// Variant (c): the real Herz path. The kernel's own coprocessor runtime (supervisor thread,
/// `WorkerCoprocClient` on a NIO event loop: ring write, doorbell only when the coprocessor sleeps,
/// answers drained on doorbell wake-ups) talks to a `ring-server` process built on the Swift SDK.
/// Nothing of the client is re-implemented here: calls go through the worker's
/// `CoprocCallDispatcher`, exactly as the `coproc` filter sends them.
final class RingVariant: RoundTripVariant, @unchecked Sendable {
    private let server: ServerProcess
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let eventLoop: EventLoop
    private let runtime: CoprocessorRuntime
    private let dispatcher: CoprocCallDispatcher

    /// Starts the coprocessor (spinning `spinMicros` before it sleeps) and waits until the kernel
    /// side's session is up and a first call came back.
    init(path: String, serverCPU: Int?, spinMicros: Int, logger: Logger) throws {
        server = try ServerProcess(arguments: ["ring-server", "--listen", "unix:\(path)", "--spin-us", String(spinMicros)],
                                   cpu: serverCPU)
        try server.waitUntil("the ring-server listens") { FileManager.default.fileExists(atPath: path) }
        eventLoop = group.next()
        let config = CoprocessorConfig(name: BenchCall.coprocessorName, endpoint: "unix:\(path)",
                                       timeout: .nanoseconds(Int64(BenchCall.timeoutNanos)))
        runtime = try CoprocessorRuntime.singleWorker(coprocessors: [config], eventLoop: eventLoop, logger: logger)
        guard let dispatcher = runtime.dispatcher(on: eventLoop) else { throw BenchError("the runtime has no worker on the loop") }
        self.dispatcher = dispatcher
        runtime.start()
        // The supervisor reports `ready` before the worker's loop has taken the session: retry a
        // probe call until one is answered.
        try server.waitUntil("a first call through the rings is answered") {
            (try? run(BenchCall(size: 8), window: 1, durationNanos: 0, pacer: nil, timed: false))?.calls == 1
        }
    }

    func latency(_ call: BenchCall, durationNanos: UInt64, pacer: Pacer?) throws -> Measurement {
        try run(call, window: 1, durationNanos: durationNanos, pacer: pacer, timed: true)
    }

    func throughput(_ call: BenchCall, durationNanos: UInt64, window: Int) throws -> Measurement {
        try run(call, window: window, durationNanos: durationNanos, pacer: nil, timed: false)
    }

    func stop() {
        runtime.shutdown()
        try? group.syncShutdownGracefully()
        server.stop()
    }

    private func run(_ call: BenchCall, window: Int, durationNanos: UInt64, pacer: Pacer?, timed: Bool) throws -> Measurement {
        try eventLoop.flatSubmit { [self] in
            RingLoad(dispatcher: dispatcher, eventLoop: eventLoop, call: call, window: window, durationNanos: durationNanos,
                     pacer: pacer, timed: timed).run()
        }.wait()
    }
}
