import ArgumentParser
import Logging

/// How a `CoprocessorServer` runs. A value: build it on any thread, hand it to the server.
public struct CoprocessorOptions: Sendable {
    /// The attach socket path (`--listen unix:PATH`); the control endpoint is `ipc://PATH.<pid>.ctl`.
    public var listenPath: String
    /// How long a ring thread spins re-reading `tail` before it sleeps on its doorbell (`--spin-us`).
    public var spinMicros: Int
    /// How long the attach exchange of a new session may block the main thread.
    public var attachTimeoutMillis: Int
    /// How long SIGTERM waits for in-flight calls before closing the sessions anyway.
    public var terminationGraceMillis: Int
    public var logger: Logger

    public init(listenPath: String, spinMicros: Int = 20, attachTimeoutMillis: Int = 2000,
                terminationGraceMillis: Int = 5000, logger: Logger = Logger(label: "herz.coproc")) {
        self.listenPath = listenPath
        self.spinMicros = spinMicros
        self.attachTimeoutMillis = attachTimeoutMillis
        self.terminationGraceMillis = terminationGraceMillis
        self.logger = logger
    }
}

/// The command-line options every Swift coprocessor shares: `--listen unix:PATH` and `--spin-us N`.
/// Embed with `@OptionGroup var coprocessor: CoprocessorArguments`.
public struct CoprocessorArguments: ParsableArguments {
    @Option(name: .long, help: "Attach socket, as unix:PATH.")
    public var listen: String

    @Option(name: .customLong("spin-us"), help: "Microseconds a ring thread spins before sleeping.")
    public var spinMicros: Int = 20

    public init() {}

    public func validate() throws {
        _ = try listenPath()
        guard spinMicros >= 0 else { throw ValidationError("--spin-us must not be negative") }
    }

    /// PATH of `unix:PATH`.
    public func listenPath() throws -> String {
        guard listen.hasPrefix("unix:"), listen.count > 5 else { throw ValidationError("--listen must be unix:PATH, got \(listen)") }
        return String(listen.dropFirst(5))
    }

    /// Options with these arguments applied.
    public func options(logger: Logger = Logger(label: "herz.coproc")) throws -> CoprocessorOptions {
        CoprocessorOptions(listenPath: try listenPath(), spinMicros: spinMicros, logger: logger)
    }
}
