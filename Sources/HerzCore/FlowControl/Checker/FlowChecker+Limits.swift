/// `limit: { rate: 100/s, burst: 200, key: client_ip }`, `limit: { concurrency: 50, key: … }`,
/// `limit: { rate: …, scope: global, on_store_failure: local(50/s) | allow }`.
extension FlowChecker {
    static let limitKeys = ["rate", "burst", "concurrency", "key", "scope", "on_store_failure"]
    static let maxBurst = 1_000_000_000

    mutating func limit(_ node: FlowSyntaxNode) -> FlowLimit? {
        guard case .block(let block) = node.kind else {
            report(.wrongType("limit needs a block, e.g. limit: { rate: 100/s, key: client_ip }, found \(describe(node))"), at: node.location)
            return nil
        }
        let fields = readFields(block.entries, in: "limit", keys: Self.limitKeys)
        let kind = limitKind(fields, at: node.location)
        let key = fields["key"].map { limitKey($0) } ?? FlowKey([])
        let scope = limitScope(fields, at: node.location)
        guard let kind, let key, let scope else { return nil }
        if case .global = scope, case .rate(let rate, let burst) = kind, !FlowGlobalBucket.canRepresent(rate: rate, burst: burst) {
            report(.outOfRange(key: "burst", value: "\(burst) with rate \(rate)",
                               accepted: "smaller for a global limit (the store counts burst × period in µs exactly below 2^53)"),
                   at: fields["burst"]?.location ?? fields["rate"]?.location ?? node.location)
            return nil
        }
        return FlowLimit(kind: kind, key: key, scope: scope, location: node.location)
    }

    private mutating func limitKind(_ fields: FlowFields, at location: SourceLocation) -> FlowLimit.Kind? {
        switch (fields["rate"], fields["concurrency"]) {
        case (let rateNode?, nil):
            guard let parsed = rate(rateNode, key: "rate") else { return nil }
            return bucket(parsed, burstNode: fields["burst"], key: "burst", at: rateNode.location).map { .rate($0.rate, burst: $0.burst) }
        case (nil, let concurrencyNode?):
            if let burst = fields.location(of: "burst") {
                report(.keyNotAllowed("burst", reason: "it applies to rate limits only"), at: burst)
            }
            return integer(concurrencyNode, key: "concurrency", range: 1...Self.maxBurst).map { .concurrency($0) }
        case (_?, _?):
            report(.conflictingKeys("rate", "concurrency", advice: "write one limit block for each"), at: fields.location(of: "concurrency") ?? location)
            return nil
        case (nil, nil):
            report(.missingOneOf(["rate", "concurrency"], block: "limit"), at: location)
            return nil
        }
    }

    /// A rate with its burst (default: the rate's count), refused when the pair is too fine for
    /// ``FlowTokenBucket``'s exact integer arithmetic.
    private mutating func bucket(_ rate: FlowRate, burstNode: FlowSyntaxNode?, key: String,
                                 at location: SourceLocation) -> (rate: FlowRate, burst: Int)? {
        let burst = burstNode.map { integer($0, key: key, range: 1...Self.maxBurst) } ?? min(rate.count, Self.maxBurst)
        guard let burst else { return nil }
        guard FlowTokenBucket.canRepresent(rate: rate, burst: burst) else {
            report(.outOfRange(key: key, value: "\(burst) with rate \(rate)", accepted: "smaller for so slow a rate (burst × period is too large to track)"),
                   at: burstNode?.location ?? location)
            return nil
        }
        return (rate, burst)
    }

    private mutating func limitScope(_ fields: FlowFields, at location: SourceLocation) -> FlowScope? {
        var global = false
        if let node = fields["scope"] {
            switch node.kind {
            case .identifier("local"): break
            case .identifier("global"): global = true
            default:
                report(.outOfRange(key: "scope", value: describe(node), accepted: "local or global"), at: node.location)
                return nil
            }
        }
        let failureNode = fields["on_store_failure"]
        guard global else {
            if let failure = fields.location(of: "on_store_failure") {
                report(.keyNotAllowed("on_store_failure", reason: "it applies to limits with scope: global"), at: failure)
                return nil
            }
            return .local
        }
        if fields["concurrency"] != nil, let scope = fields.location(of: "scope") {
            report(.keyNotAllowed("scope", reason: "concurrency limits are per kernel; only rate limits can be global"), at: scope)
            return nil
        }
        guard let failureNode else {
            report(.missingKey("on_store_failure", block: "limit with scope: global"), at: fields.location(of: "scope") ?? location)
            return nil
        }
        return storeFailurePolicy(failureNode).map { .global(onStoreFailure: $0) }
    }

    /// `allow` or `local(RATE [, burst: N])`.
    private mutating func storeFailurePolicy(_ node: FlowSyntaxNode) -> FlowStoreFailurePolicy? {
        switch node.kind {
        case .identifier("allow"):
            return .allow
        case .call("local", let arguments, nil):
            let fields = readFields(arguments, in: "local(…)", keys: ["burst"], maxBare: 1)
            guard let rateNode = fields.bare.first else {
                report(.missingKey("rate", block: "local(…)"), at: node.location)
                return nil
            }
            guard let parsed = rate(rateNode, key: "local") else { return nil }
            return bucket(parsed, burstNode: fields["burst"], key: "burst", at: rateNode.location).map { .local($0.rate, burst: $0.burst) }
        default:
            report(.wrongType("on_store_failure needs allow or local(RATE), e.g. local(50/s), found \(describe(node))"), at: node.location)
            return nil
        }
    }

    /// `key: client_ip`, `key: header["x-tenant"]`, `key: [client_ip, header["x-tenant"]]`.
    private mutating func limitKey(_ node: FlowSyntaxNode) -> FlowKey? {
        let items: [FlowSyntaxNode]
        if case .list(let list) = node.kind { items = list } else { items = [node] }
        guard !items.isEmpty else {
            report(.wrongType("key needs at least one request attribute; leave 'key' out for one budget per rule"), at: node.location)
            return nil
        }
        let attributes = items.map { attribute($0) }
        guard attributes.allSatisfy({ $0 != nil }) else { return nil }
        return FlowKey(attributes.compactMap { $0 })
    }
}
