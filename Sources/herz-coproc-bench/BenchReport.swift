import Foundation

/// The Markdown report: one results table, the ratios of the ring to the other variants, and the
/// issue's targets (1 KiB) with PASS/MISS.
struct BenchReport {
    /// When and where the run happened.
    struct Header {
        var date: String
        var command: String
        var loadAverage: String
        var driverCPUs: String

        static func current(settings: RunSettings) -> Header {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd HH:mm"
            let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ")
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            let cpus = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }?
                .split(separator: ":").last?.trimmingCharacters(in: .whitespaces)
            return Header(date: formatter.string(from: Date()),
                          command: (["herz-coproc-bench"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
                          loadAverage: load ?? "?", driverCPUs: cpus ?? "?")
        }
    }

    struct Row {
        let size: Int
        let variant: VariantKind
        let latency: Measurement
        let throughput: Measurement
    }

    /// The targets for the ring at 1 KiB.
    static let targetSize = 1024
    static let targetP50Micros = 10.0
    static let targetP99Micros = 50.0
    static let targetSpeedup = 5.0

    let header: Header
    let settings: RunSettings
    private var rows: [Row] = []

    init(header: Header, settings: RunSettings) {
        self.header = header
        self.settings = settings
    }

    mutating func add(_ row: Row) { rows.append(row) }

    func markdown() -> String {
        var out = "## Coprocessor call round trip\n\n"
        out += "`\(header.command)` — \(header.date); load average before the run \(header.loadAverage); "
        out += "driver on CPUs \(header.driverCPUs), servers "
        out += settings.serverCPU.map { ServerProcess.canPin ? "pinned to CPU \($0)" : "unpinned (no taskset)" } ?? "unpinned"
        out += ".\n\n"
        out += "- latency: \(settings.latencyMethod); \(seconds(settings.durationNanos)) per run after \(seconds(settings.warmupNanos)) of warm-up\n"
        out += "- calls/s (window \(settings.window)): \(settings.window) calls outstanding for \(seconds(settings.durationNanos)) "
        out += "(in-process has no transport to keep calls in: the same loop as the latency run)\n"
        out += "- ring coprocessor spins \(settings.spinMicros) µs before sleeping on its doorbell; the kernel side polls its answers ring for 30 µs after each call or answer (as event-loop tasks)\n\n"
        out += resultsTable() + "\n"
        if rows.contains(where: { !$0.latency.failures.isEmpty || !$0.throughput.failures.isEmpty }) {
            out += "Failed calls got the coprocessor's fail_closed policy because the kernel lost the session "
            out += "(`hung`: no heartbeat answer within 40 ms, typical when the machine is overloaded; the runtime reconnects); "
            out += "they are left out of the latencies and calls/s.\n\n"
        }
        out += ratiosTable() + "\n" + targetsTable()
        return out
    }

    private func resultsTable() -> String {
        var cells: [[String]] = []
        for size in settings.sizes {
            for kind in VariantKind.allCases {
                guard let row = row(size, kind) else { continue }
                cells.append([PayloadSize.label(size), kind.label, micros(row.latency, 50), micros(row.latency, 99),
                              micros(row.latency, 99.9), rate(row.latency.callsPerSecond), rate(row.throughput.callsPerSecond),
                              failures(row)])
            }
        }
        return Self.table(["payload", "variant", "p50 µs", "p99 µs", "p999 µs", "calls/s (1 outstanding)",
                           "calls/s (window \(settings.window))", "failed calls"], leftColumns: 2, cells)
    }

    private func ratiosTable() -> String {
        let cells: [[String]] = settings.sizes.compactMap { size in
            guard let ring = row(size, .ring) else { return nil }
            let unix = row(size, .unix), inProcess = row(size, .inProcess)
            return [PayloadSize.label(size), ratio(unix.map { p50($0) }, p50(ring)), ratio(unix.map { p99($0) }, p99(ring)),
                    ratio(ring.throughput.callsPerSecond, unix?.throughput.callsPerSecond),
                    ratio(p50(ring), inProcess.map { p50($0) }),
                    ratio(ring.throughput.callsPerSecond, inProcess?.throughput.callsPerSecond)]
        }
        return "Ratios (\"unix ÷ ring\" latency > 1 and \"ring ÷ unix\" calls/s > 1 mean the ring is faster):\n\n"
            + Self.table(["payload", "unix ÷ ring p50", "unix ÷ ring p99", "ring ÷ unix calls/s (window)", "ring ÷ in-process p50",
                          "ring ÷ in-process calls/s (window)"], leftColumns: 1, cells)
    }

    /// The calls/s target is judged closed loop (one call outstanding: the round trip itself). With a
    /// window of calls both transports are bound by CPU per call; even the in-process variant, which
    /// has no transport at all, is shown beside it so the reader sees that bound.
    private func targetsTable() -> String {
        let ring = row(Self.targetSize, .ring), unix = row(Self.targetSize, .unix), inProcess = row(Self.targetSize, .inProcess)
        let p50 = ring.map { self.p50($0) }, p99 = ring.map { self.p99($0) }
        func speedup(_ a: Row?, over b: Row?, _ rate: (Row) -> Double) -> Double? {
            a.flatMap { a in b.map { rate(a) / rate($0) } }
        }
        let closedLoop = speedup(ring, over: unix) { $0.latency.callsPerSecond }
        let windowed = speedup(ring, over: unix) { $0.throughput.callsPerSecond }
        let windowCeiling = speedup(inProcess, over: unix) { $0.throughput.callsPerSecond }
        func times(_ value: Double?) -> String { value.map { String(format: "%.2fx", $0) } ?? "—" }
        let cells = [
            ["p50 < \(Int(Self.targetP50Micros)) µs", p50.map { format($0) + " µs" } ?? "—", verdict(p50.map { $0 < Self.targetP50Micros })],
            ["p99 < \(Int(Self.targetP99Micros)) µs", p99.map { format($0) + " µs" } ?? "—", verdict(p99.map { $0 < Self.targetP99Micros })],
            ["calls/s ≥ \(Int(Self.targetSpeedup))x unix socket (closed loop, 1 outstanding)", times(closedLoop),
             verdict(closedLoop.map { $0 >= Self.targetSpeedup })],
            ["for reference: calls/s with \(settings.window) outstanding, ring ÷ unix (in-process ÷ unix: \(times(windowCeiling)))",
             times(windowed), "—"],
        ]
        return "Targets (issue 4, item 10; ring at \(PayloadSize.label(Self.targetSize))):\n\n"
            + Self.table(["target", "measured", "result"], leftColumns: 1, cells, lastLeft: true)
    }

    /// A Markdown table: the first `leftColumns` columns (and the last, with `lastLeft`) left-aligned, the rest right-aligned.
    private static func table(_ header: [String], leftColumns: Int, _ rows: [[String]], lastLeft: Bool = false) -> String {
        let alignment = header.indices.map { $0 < leftColumns || (lastLeft && $0 == header.count - 1) ? "---" : "---:" }
        return ([header, alignment] + rows).map { "| " + $0.joined(separator: " | ") + " |\n" }.joined()
    }

    private func row(_ size: Int, _ kind: VariantKind) -> Row? {
        rows.first { $0.size == size && $0.variant == kind }
    }

    /// `0`, or the count with reasons (`3 (hung)`) over both runs of the row.
    private func failures(_ row: Row) -> String {
        let merged = row.latency.failures.merging(row.throughput.failures, uniquingKeysWith: +)
        guard !merged.isEmpty else { return "0" }
        let reasons = merged.keys.sorted().joined(separator: ", ")
        return "\(merged.values.reduce(0, +)) (\(reasons))"
    }

    private func p50(_ row: Row) -> Double { row.latency.micros(atPercentile: 50) }
    private func p99(_ row: Row) -> Double { row.latency.micros(atPercentile: 99) }
    private func micros(_ measurement: Measurement, _ percentile: Double) -> String {
        format(measurement.micros(atPercentile: percentile))
    }

    private func format(_ micros: Double) -> String {
        String(format: micros < 10 ? "%.2f" : micros < 100 ? "%.1f" : "%.0f", micros)
    }

    private static let grouping: NumberFormatter = {
        let formatter = NumberFormatter()
        formatter.locale = Locale(identifier: "en_US")
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        return formatter
    }()

    private func rate(_ callsPerSecond: Double) -> String {
        Self.grouping.string(from: NSNumber(value: callsPerSecond.rounded())) ?? String(Int(callsPerSecond))
    }

    private func ratio(_ numerator: Double?, _ denominator: Double?) -> String {
        guard let numerator, let denominator, denominator > 0 else { return "—" }
        return String(format: "%.2fx", numerator / denominator)
    }

    private func verdict(_ met: Bool?) -> String {
        met.map { $0 ? "PASS" : "MISS" } ?? "n/a (not measured)"
    }

    private func seconds(_ nanos: UInt64) -> String {
        String(format: "%g s", Double(nanos) / 1e9)
    }
}
