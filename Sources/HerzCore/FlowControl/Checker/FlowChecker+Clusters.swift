import NIOCore

/// `cluster "name" { weight: dynamic(latency_p95) { base, decay, min }  breaker: { error_rate > 50% over 10s, … } }`.
extension FlowChecker {
    static let clusterKeys = ["weight", "breaker"]
    static let weightKeys = ["base", "decay", "min"]
    static let breakerKeys = ["min_requests", "open_for", "half_open_probes"]

    mutating func cluster(_ declaration: FlowSyntaxDeclaration) -> FlowCluster? {
        let fields = readFields(declaration.body.entries, in: "cluster", keys: Self.clusterKeys)
        guard fields["weight"] != nil || fields["breaker"] != nil else {
            report(.missingOneOf(Self.clusterKeys, block: "cluster '\(declaration.name)'"), at: declaration.keywordLocation)
            return nil
        }
        // nil: not given; .some(nil): given but refused (already reported).
        let weight = fields["weight"].map { weightPolicy($0) }
        let breaker = fields["breaker"].map { breakerPolicy($0) }
        if case .some(nil) = weight { return nil }
        if case .some(nil) = breaker { return nil }
        return FlowCluster(name: declaration.name, location: declaration.nameLocation, weight: weight ?? nil, breaker: breaker ?? nil)
    }

    private mutating func weightPolicy(_ node: FlowSyntaxNode) -> FlowWeightPolicy? {
        guard case .call("dynamic", let arguments, let options) = node.kind else {
            report(.wrongType("weight needs dynamic(latency_p95) or dynamic(error_rate), found \(describe(node))"), at: node.location)
            return nil
        }
        let signals = FlowWeightPolicy.Signal.allCases.map(\.rawValue)
        let fields = readFields(arguments, in: "dynamic(…)", keys: [], maxBare: 1)
        guard let signalNode = fields.bare.first else {
            report(.missingKey("signal", block: "dynamic(…)"), at: node.location)
            return nil
        }
        guard case .identifier(let name) = signalNode.kind, let signal = FlowWeightPolicy.Signal(rawValue: name) else {
            if case .identifier(let name) = signalNode.kind {
                report(.unknownIdentifier(name, known: signals), at: signalNode.location)
            } else {
                report(.wrongType("dynamic(…) needs latency_p95 or error_rate, found \(describe(signalNode))"), at: signalNode.location)
            }
            return nil
        }
        let settings = readFields(options?.entries ?? [], in: "dynamic weight", keys: Self.weightKeys)
        let base = settings["base"].map { integer($0, key: "base", range: 1...10_000) } ?? 100
        let decay = settings["decay"].map { decimal($0, key: "decay", range: 0..<1) } ?? 0.5
        var minimum = settings["min"].map { integer($0, key: "min", range: 1...10_000) } ?? 1
        if let chosen = minimum, let base, chosen > base, let location = settings.location(of: "min") {
            report(.outOfRange(key: "min", value: "\(chosen)", accepted: "at most base (\(base))"), at: location)
            minimum = nil
        }
        guard let base, let decay, let minimum else { return nil }
        return FlowWeightPolicy(signal: signal, base: base, decay: decay, minimum: minimum)
    }

    private mutating func breakerPolicy(_ node: FlowSyntaxNode) -> FlowBreakerPolicy? {
        guard case .block(let block) = node.kind else {
            report(.wrongType("breaker needs a block, e.g. breaker: { error_rate > 50% over 10s, open_for: 5s }, found \(describe(node))"),
                   at: node.location)
            return nil
        }
        let fields = readFields(block.entries, in: "breaker", keys: Self.breakerKeys, maxBare: 1)
        guard let conditionNode = fields.bare.first else {
            report(.wrongType("breaker needs a trip condition, e.g. error_rate > 50% over 10s"), at: node.location)
            return nil
        }
        let trip = tripCondition(conditionNode)
        let minRequests = fields["min_requests"].map { integer($0, key: "min_requests", range: 1...1_000_000) } ?? 20
        let openFor = fields["open_for"].map { duration($0, key: "open_for", range: .milliseconds(1)...(.hours(1))) } ?? .seconds(5)
        let probes = fields["half_open_probes"].map { integer($0, key: "half_open_probes", range: 1...1_000) } ?? 1
        guard let trip, let minRequests, let openFor, let probes else { return nil }
        return FlowBreakerPolicy(errorRateThreshold: trip.threshold, inclusive: trip.inclusive, window: trip.window,
                                 minRequests: minRequests, openFor: openFor, halfOpenProbes: probes)
    }

    /// `error_rate > 50% over 10s` (or `>=`); the window is 100ms...1h.
    private mutating func tripCondition(_ node: FlowSyntaxNode) -> (threshold: Double, inclusive: Bool, window: TimeAmount)? {
        let shape = "a trip condition such as error_rate > 50% over 10s"
        guard case .binary(.over, let comparison, let windowNode) = node.kind else {
            report(.wrongType("breaker needs \(shape), found \(describe(node))"), at: node.location)
            return nil
        }
        guard case .binary(let op, let metric, let thresholdNode) = comparison.kind, op == .greater || op == .greaterOrEqual else {
            report(.wrongType("breaker needs \(shape) (compare with > or >=), found \(describe(comparison))"), at: comparison.location)
            return nil
        }
        guard case .identifier("error_rate") = metric.kind else {
            if case .identifier(let name) = metric.kind {
                report(.unknownIdentifier(name, known: ["error_rate"]), at: metric.location)
            } else {
                report(.wrongType("breaker needs \(shape), found \(describe(metric))"), at: metric.location)
            }
            return nil
        }
        let threshold = percentage(thresholdNode, key: "error_rate")
        let window = duration(windowNode, key: "over", range: .milliseconds(100)...(.hours(1)))
        guard let threshold, let window else { return nil }
        return (threshold, op == .greaterOrEqual, window)
    }
}
