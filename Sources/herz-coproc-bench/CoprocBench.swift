import ArgumentParser

/// The root command: `run` drives the round-trip benchmark; `ring-server` and `unix-server` are the
/// coprocessor processes `run` starts itself (one executable, so both sides are always the same
/// build). `aesgcm` and `jwt` drive the real crypto coprocessors through the same kernel client
/// (bench/crypto).
struct CoprocBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herz-coproc-bench",
        abstract: "Coprocessor call round trip: in-process vs unix socket vs Herz's shared-memory rings; crypto coprocessor throughput.",
        subcommands: [RunCommand.self, RingServerCommand.self, UnixServerCommand.self, AESGCMBenchCommand.self, JWTBenchCommand.self],
        defaultSubcommand: RunCommand.self)
}
