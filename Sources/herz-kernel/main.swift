import ArgumentParser
import Foundation
import HerzCore
import HerzHTTP
import Logging
import NIOCore

/// `herz-kernel`: argument parsing and wiring only; everything else lives in HerzHTTP/HerzCore.
struct HerzKernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herz-kernel",
        abstract: "Herz L7 edge proxy kernel.",
        discussion: "Without --config, serves the built-in demo config (listener :8080 → 127.0.0.1:9001, admin 127.0.0.1:9901).",
        version: HerzVersion.string)

    @Option(name: .long, help: "YAML config file.")
    var config: String?

    @Option(name: .long, help: "Validate this config file (and exit 0 if valid, 1 with file:line:col errors if not).")
    var check: String?

    @Option(name: .long, help: "Worker event loops (default: number of cores).")
    var workers: Int = System.coreCount

    @Option(name: .long, help: "Coprocessor endpoint NAME=unix:/path.sock (repeatable).")
    var coproc: [String] = []

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    mutating func run() throws {
        var extraCoprocessors: [CoprocessorConfig] = []
        for flag in coproc {
            guard let parsed = CoprocessorConfig.parseFlag(flag) else {
                FileHandle.standardError.write(Data("herz-kernel: --coproc \(flag): expected NAME=unix:/path.sock\n".utf8))
                throw ExitCode(1)
            }
            extraCoprocessors.append(parsed)
        }
        if let check {
            do {
                let loaded = try ConfigLoader.load(path: check, extraCoprocessors: extraCoprocessors)
                print("\(check): OK (\(loaded.listeners.count) listeners, \(loaded.clusters.count) clusters)")
                if let flow = loaded.flowControl {
                    print("\(flow.rulesPath): OK (\(flow.rules.rules.count) rules, \(flow.rules.clusters.count) cluster policies)")
                }
                return
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "herz")
        let loaded: HerzConfig
        do {
            loaded = try config.map { try ConfigLoader.load(path: $0, extraCoprocessors: extraCoprocessors) }
                ?? ConfigLoader.parse(yaml: ConfigLoader.builtInDemo(exampleCoprocessor: extraCoprocessors.contains { $0.name == "example" }),
                                      source: "<built-in>", extraCoprocessors: extraCoprocessors)
        } catch {
            FileHandle.standardError.write(Data("herz-kernel: invalid config\n\(error)\n".utf8))
            throw ExitCode(1)
        }
        let kernel = try HerzKernel(config: loaded, configPath: config, workerCount: max(1, workers),
                                    extraCoprocessors: extraCoprocessors, logger: logger)
        try kernel.start()
        SignalHandling.install(kernel: kernel)
        dispatchMain()
    }
}

/// SIGHUP reloads; SIGTERM and SIGINT drain and exit 0.
enum SignalHandling {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    static func install(kernel: HerzKernel) {
        let queue = DispatchQueue(label: "herz.signals")
        for sig in [SIGHUP, SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if sig == SIGHUP {
                    kernel.reload()
                } else {
                    kernel.drainAndStop()
                    exit(0)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}

HerzKernelCommand.main()
