import NIOCore

/// `rule "name" { match: …  limit: { … }…  on_limit: … }`.
extension FlowChecker {
    static let ruleKeys = ["match", "limit", "on_limit"]
    static let onLimitActions = ["reject", "delay", "shadow"]

    mutating func rule(_ declaration: FlowSyntaxDeclaration) -> FlowRule? {
        let title = "rule '\(declaration.name)'"
        let fields = readFields(declaration.body.entries, in: "rule", keys: Self.ruleKeys, repeatable: ["limit"])
        var match: FlowExpr?
        if let node = fields["match"] {
            match = condition(node)
        } else {
            report(.missingKey("match", block: title), at: declaration.keywordLocation)
        }
        let limitEntries = fields.repeated["limit"] ?? []
        if limitEntries.isEmpty { report(.missingKey("limit", block: title), at: declaration.keywordLocation) }
        let limits = limitEntries.map { limit($0.value) }
        let onLimit = fields["on_limit"].map { onLimitAction($0) } ?? FlowOnLimit.defaultAction
        guard let match, !limits.isEmpty, limits.allSatisfy({ $0 != nil }), let onLimit else { return nil }
        return FlowRule(name: declaration.name, location: declaration.nameLocation, match: match,
                        limits: limits.compactMap { $0 }, onLimit: onLimit)
    }

    /// `reject`, `reject(503)`, `reject(429, retry_after: auto | none | 30s)`, `delay(max: 200ms)`, `shadow`.
    private mutating func onLimitAction(_ node: FlowSyntaxNode) -> FlowOnLimit? {
        switch node.kind {
        case .identifier("shadow"):
            return .shadow
        case .identifier("reject"):
            return .defaultAction
        case .call("reject", let arguments, nil):
            return reject(arguments)
        case .call("delay", let arguments, nil):
            let fields = readFields(arguments, in: "delay(…)", keys: ["max"])
            guard let max = fields["max"] else {
                report(.missingKey("max", block: "delay(…)"), at: node.location)
                return nil
            }
            return duration(max, key: "max", range: .milliseconds(1)...(.seconds(60))).map { .delay(max: $0) }
        case .identifier(let name) where !Self.onLimitActions.contains(name):
            report(.unknownIdentifier(name, known: Self.onLimitActions), at: node.location)
            return nil
        case .call(let name, _, nil) where !Self.onLimitActions.contains(name):
            report(.unknownIdentifier(name, known: Self.onLimitActions), at: node.location)
            return nil
        default:
            report(.wrongType("on_limit needs reject(…), delay(max: …) or shadow, found \(describe(node))"), at: node.location)
            return nil
        }
    }

    private mutating func reject(_ arguments: [FlowSyntaxEntry]) -> FlowOnLimit? {
        let fields = readFields(arguments, in: "reject(…)", keys: ["retry_after"], maxBare: 1)
        let status = fields.bare.first.map { integer($0, key: "status", range: 400...599) } ?? 429
        var retryAfter: FlowRetryAfter? = .auto
        if let node = fields["retry_after"] {
            switch node.kind {
            case .identifier("auto"): retryAfter = .auto
            case .identifier("none"): retryAfter = FlowRetryAfter.none
            default:
                let amount = duration(node, key: "retry_after", range: .seconds(1)...(.hours(24)))
                retryAfter = amount.map { .fixed(seconds: Int(($0.nanoseconds + 999_999_999) / 1_000_000_000)) }
            }
        }
        guard let status, let retryAfter else { return nil }
        return .reject(status: status, retryAfter: retryAfter)
    }
}
