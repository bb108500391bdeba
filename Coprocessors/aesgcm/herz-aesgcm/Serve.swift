import ArgumentParser
import HerzAESGCM
import HerzCoprocSDK
import Logging

/// `herz-aesgcm [serve] --listen unix:PATH --keys FILE [--name aesgcm]`: serves the kernel's calls until drained or
/// SIGTERM, reloading the key file when it changes and on the control plane's `reload`.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the kernel (the default mode).")

    @OptionGroup var coprocessor: CoprocessorArguments
    @OptionGroup var keys: KeysArgument

    @Option(help: "The coprocessor's name, as the kernel's `coprocessors:` entry calls it.")
    var name = "aesgcm"

    @Option(name: .customLong("keys-poll-ms"), help: "How often to check the key file for changes.")
    var keysPollMillis = 1000

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard keysPollMillis > 0 else { throw ValidationError("--keys-poll-ms must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() throws {
        var logger = Logger(label: "herz.aesgcm")
        logger.logLevel = Logger.Level(rawValue: logLevel)!
        let store = try KeyStore(path: keys.keys, logger: logger)
        let watcher = KeyFileWatcher(store: store, intervalMillis: keysPollMillis)
        defer { watcher.stop() }
        let server = try CoprocessorServer(name: name, buildVersion: AESGCMCommand.buildVersion,
                                           filter: AESGCMFilter(keys: store, logger: logger),
                                           options: try coprocessor.options(logger: logger))
        try server.run()
    }
}
