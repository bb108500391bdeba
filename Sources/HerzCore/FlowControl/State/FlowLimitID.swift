/// The identity of one limit across reloads: its rule's name, what it limits (`rate`,
/// `concurrency`, `global rate`), its key's canonical text, and which of the rule's limits with
/// that same kind and key it is (a rule may hold `10/s` and `1000/h` on `client_ip`). Changing the
/// rate or burst keeps the identity; renaming the rule, changing the key or the kind does not.
public struct FlowLimitID: Hashable, Sendable, CustomStringConvertible {
    public var rule: String
    public var kind: String
    public var key: String
    public var ordinal: Int

    public init(rule: String, kind: String, key: String, ordinal: Int = 0) {
        self.rule = rule
        self.kind = kind
        self.key = key
        self.ordinal = ordinal
    }

    /// `orders-post/rate/client_ip` (with `#N` for a second limit of the same kind and key).
    public var description: String { "\(rule)/\(kind)/\(key)" + (ordinal > 0 ? "#\(ordinal)" : "") }

    /// The identities of `rule`'s limits, in the rule's order.
    public static func identities(of rule: FlowRule) -> [FlowLimitID] {
        var seen: [String: Int] = [:]
        return rule.limits.map { limit in
            let kind: String
            switch (limit.kind, limit.scope) {
            case (.concurrency, _): kind = "concurrency"
            case (.rate, .local): kind = "rate"
            case (.rate, .global): kind = "global rate"
            }
            let signature = kind + "\u{1F}" + limit.key.description
            let ordinal = seen[signature, default: 0]
            seen[signature] = ordinal + 1
            return FlowLimitID(rule: rule.name, kind: kind, key: limit.key.description, ordinal: ordinal)
        }
    }
}
