import ArgumentParser
import Foundation
import Logging

/// The driver: starts the variants' servers, measures every payload size on every variant
/// (latency closed-loop, then calls/s with a window of outstanding calls), prints the Markdown
/// report on stdout (progress goes to stderr) and stops the servers.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Measure the variants side by side and print a Markdown report.")

    @Option(help: "Seconds each measurement runs.")
    var duration: Double = 2

    @Option(help: "Seconds of warm-up calls before each variant's measurements of a size.")
    var warmup: Double = 0.5

    @Option(help: "Body payload sizes, comma-separated (64, 1KiB, 16KiB, up to 64KiB).")
    var sizes: String = "64,1KiB,16KiB"

    @Option(help: "Calls outstanding in the throughput runs.")
    var window: Int = 16

    @Option(help: "Latency runs: start one call at this rate (calls/s) instead of back-to-back.")
    var rate: Double = 0

    @Option(help: "Variants, comma-separated subset of in-process,unix,ring.")
    var variants: String = "in-process,unix,ring"

    @Option(name: .customLong("server-cpu"), help: "Pin the server processes to this core with taskset.")
    var serverCPU: Int?

    @Option(name: .customLong("spin-us"), help: "Microseconds the ring coprocessor spins before it sleeps (the SDK's default).")
    var spinMicros: Int = 20

    @Option(help: "Also write the report to this file.")
    var output: String?

    func validate() throws {
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be positive and --warmup not negative") }
        guard window >= 1 else { throw ValidationError("--window must be at least 1") }
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard spinMicros >= 0 else { throw ValidationError("--spin-us must not be negative") }
    }

    func run() throws {
        let settings = RunSettings(
            sizes: try PayloadSize.parseList(sizes), variants: try VariantKind.parseList(variants),
            durationNanos: UInt64(duration * 1e9), warmupNanos: UInt64(warmup * 1e9), window: window,
            rate: rate > 0 ? rate : nil, serverCPU: serverCPU, spinMicros: spinMicros)
        var logger = Logger(label: "herz.coproc-bench")
        logger.logLevel = .warning
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herz-coproc-bench.\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let header = BenchReport.Header.current(settings: settings)
        var started: [(VariantKind, RoundTripVariant)] = []
        defer { for (_, variant) in started { variant.stop() } }
        for kind in settings.variants {
            progress("starting \(kind.label)")
            started.append((kind, try kind.make(directory: directory, settings: settings, logger: logger)))
        }

        var report = BenchReport(header: header, settings: settings)
        for (index, size) in settings.sizes.enumerated() {
            // A different variant goes first for each size, so slow drift on the machine does not
            // always hit the same one.
            let rotation = index % started.count
            for (kind, variant) in started[rotation...] + started[..<rotation] {
                report.add(try measure(variant, kind: kind, size: size, settings: settings))
            }
        }
        let markdown = report.markdown()
        print(markdown, terminator: "")
        if let output { try markdown.write(toFile: output, atomically: true, encoding: .utf8) }
    }

    private func measure(_ variant: RoundTripVariant, kind: VariantKind, size: Int, settings: RunSettings) throws -> BenchReport.Row {
        let call = BenchCall(size: size)
        progress("\(PayloadSize.label(size)) \(kind.label): warm-up, latency, throughput")
        if settings.warmupNanos > 0 {
            _ = try variant.latency(call, durationNanos: settings.warmupNanos, pacer: nil)
        }
        let latency = try variant.latency(call, durationNanos: settings.durationNanos, pacer: settings.rate.flatMap(Pacer.init(rate:)))
        let throughput = try variant.throughput(call, durationNanos: settings.durationNanos, window: settings.window)
        return BenchReport.Row(size: size, variant: kind, latency: latency, throughput: throughput)
    }

    private func progress(_ line: String) {
        FileHandle.standardError.write(Data("herz-coproc-bench: \(line)\n".utf8))
    }
}
