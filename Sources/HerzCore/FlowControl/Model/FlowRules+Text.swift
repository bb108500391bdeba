import NIOCore

/// Canonical DSL text of a checked file, with every default written out: the form `/flow` and
/// `herz-kernel --check` print, and that the golden tests compare. Parsing it again gives the same
/// model (positions aside).
extension FlowRules: CustomStringConvertible {
    public var description: String {
        (rules.map(\.description) + clusters.map(\.description)).joined(separator: "\n")
    }
}

extension FlowRule: CustomStringConvertible {
    public var description: String {
        var lines = ["rule \(FlowExpr.quoted(name)) {", "  match: \(match)"]
        lines += limits.map { "  limit: \($0)" }
        lines.append("  on_limit: \(onLimit)")
        return (lines + ["}"]).joined(separator: "\n") + "\n"
    }
}

extension FlowLimit: CustomStringConvertible {
    public var description: String {
        var fields: [String]
        switch kind {
        case .rate(let rate, let burst): fields = ["rate: \(rate)", "burst: \(burst)"]
        case .concurrency(let cap): fields = ["concurrency: \(cap)"]
        }
        if !key.attributes.isEmpty { fields.append("key: \(key)") }
        switch scope {
        case .local: break
        case .global(.allow): fields += ["scope: global", "on_store_failure: allow"]
        case .global(.local(let rate, let burst)): fields += ["scope: global", "on_store_failure: local(\(rate), burst: \(burst))"]
        }
        return "{ " + fields.joined(separator: ", ") + " }"
    }
}

extension FlowOnLimit: CustomStringConvertible {
    public var description: String {
        switch self {
        case .reject(let status, .auto): return "reject(\(status), retry_after: auto)"
        case .reject(let status, .none): return "reject(\(status), retry_after: none)"
        case .reject(let status, .fixed(let seconds)): return "reject(\(status), retry_after: \(seconds)s)"
        case .delay(let max): return "delay(max: \(DurationParser.format(max)))"
        case .shadow: return "shadow"
        }
    }
}

extension FlowCluster: CustomStringConvertible {
    public var description: String {
        var lines = ["cluster \(FlowExpr.quoted(name)) {"]
        if let weight {
            lines.append("  weight: dynamic(\(weight.signal.rawValue)) { base: \(weight.base), decay: \(Self.number(weight.decay)), min: \(weight.minimum) }")
        }
        if let breaker {
            let comparison = breaker.inclusive ? ">=" : ">"
            lines.append("  breaker: { error_rate \(comparison) \(Self.number(breaker.errorRateThreshold * 100))% over \(DurationParser.format(breaker.window)), "
                + "min_requests: \(breaker.minRequests), open_for: \(DurationParser.format(breaker.openFor)), half_open_probes: \(breaker.halfOpenProbes) }")
        }
        return (lines + ["}"]).joined(separator: "\n") + "\n"
    }

    /// `50`, `12.5`, `0.5`: at most six decimals, no trailing `.0`.
    private static func number(_ value: Double) -> String {
        let rounded = (value * 1_000_000).rounded() / 1_000_000
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int(rounded)) : String(rounded)
    }
}
