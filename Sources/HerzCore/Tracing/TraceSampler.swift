/// The head-sampling decision for a request entering Herz.
///
/// A sampled parent is always followed (the caller already records this trace); otherwise the
/// trace id decides against `ratio`, so every Herz instance (and every retry) makes the same choice
/// for the same trace, as OpenTelemetry's `TraceIdRatioBased` sampler does. An unsampled parent is
/// also re-decided by ratio (a parent that did not sample does not forbid Herz's own sampling).
public struct TraceSampler: Sendable, Equatable {
    /// Fraction of new traces sampled, 0...1.
    public let ratio: Double
    private let threshold: UInt64

    public init(ratio: Double) {
        self.ratio = min(max(ratio, 0), 1)
        // Compare the trace id's low 63 bits with ratio · 2^63 (no floating point per request).
        self.threshold = self.ratio >= 1 ? UInt64.max : UInt64(self.ratio * Double(UInt64(1) << 63))
    }

    public func shouldSample(parent: TraceContext?, traceIDLow: UInt64) -> Bool {
        if parent?.sampled == true { return true }
        if threshold == UInt64.max { return true }
        return traceIDLow & (UInt64.max >> 1) < threshold
    }
}
