import ArgumentParser
import HerzCoprocSDK
import Logging

/// The ring variant's coprocessor: the Swift SDK's `CoprocessorServer` (attach, rings, doorbells,
/// spin-then-sleep ring threads, ZeroMQ control) running the echo filter — the same server code a
/// Swift coprocessor in production runs.
struct RingServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring-server", abstract: "Serve the echo filter as a Swift SDK coprocessor (spawned by `run`).")

    @OptionGroup var coprocessor: CoprocessorArguments

    func run() throws {
        var logger = Logger(label: "herz.coproc-bench.ring-server")
        logger.logLevel = .warning
        let server = try CoprocessorServer(name: BenchCall.coprocessorName, buildVersion: "bench", filter: EchoFilter(),
                                           options: try coprocessor.options(logger: logger))
        ParentWatch.onOrphaned { server.shutdown() }
        try server.run()
    }
}
