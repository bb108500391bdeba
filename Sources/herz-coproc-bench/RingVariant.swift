import Foundation
import Logging

/// Variant (c): the real Herz path. The kernel's own coprocessor runtime (``KernelRingClient``:
/// ring write, doorbell only when the coprocessor sleeps, answers drained on doorbell wake-ups)
/// talks to a `ring-server` process built on the Swift SDK.
final class RingVariant: RoundTripVariant {
    private let server: ServerProcess
    private let client: KernelRingClient

    /// Starts the coprocessor (spinning `spinMicros` before it sleeps) and waits until the kernel
    /// side's session is up and a first call came back.
    init(path: String, serverCPU: Int?, spinMicros: Int, logger: Logger) throws {
        server = try ServerProcess(arguments: ["ring-server", "--listen", "unix:\(path)", "--spin-us", String(spinMicros)],
                                   cpu: serverCPU)
        try server.waitUntil("the ring-server listens") { FileManager.default.fileExists(atPath: path) }
        client = try KernelRingClient(name: BenchCall.coprocessorName, path: path, server: server, probe: BenchCall(size: 8), logger: logger)
    }

    func latency(_ call: BenchCall, durationNanos: UInt64, pacer: Pacer?) throws -> Measurement {
        try client.run(call, window: 1, durationNanos: durationNanos, pacer: pacer, timed: true)
    }

    func throughput(_ call: BenchCall, durationNanos: UInt64, window: Int) throws -> Measurement {
        try client.run(call, window: window, durationNanos: durationNanos, pacer: nil, timed: false)
    }

    func stop() {
        client.stop()
        server.stop()
    }
}
