import ArgumentParser

/// The root command: `run` drives the benchmark; `ring-server` and `unix-server` are the
/// coprocessor processes `run` starts itself (one executable, so both sides are always the same build).
struct CoprocBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herz-coproc-bench",
        abstract: "Coprocessor call round trip: in-process vs unix socket vs Herz's shared-memory rings.",
        subcommands: [RunCommand.self, RingServerCommand.self, UnixServerCommand.self],
        defaultSubcommand: RunCommand.self)
}
