/// What `run` measures and how, from its options.
struct RunSettings {
    var sizes: [Int]
    var variants: [VariantKind]
    var durationNanos: UInt64
    var warmupNanos: UInt64
    /// Calls outstanding in the throughput runs.
    var window: Int
    /// Latency runs: calls per second when paced, nil for back-to-back.
    var rate: Double?
    var serverCPU: Int?
    var spinMicros: Int

    /// How the latency runs load the variants, for the report.
    var latencyMethod: String {
        if let rate {
            return "one call outstanding, started at \(Int(rate)) calls/s (paced; HdrHistogram's coordinated-omission correction)"
        }
        return "one call outstanding, back-to-back (the next call starts when the answer is in)"
    }
}
