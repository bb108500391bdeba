/// One load of the flow rules, compiled for the `flow_control` filter: the rules, their index, a
/// flat numbering of every limit of every rule (rule 0's limits first), the counters of each rule
/// and where the global limits' store is.
///
/// Immutable and `Sendable`: built once per (re)load, read by every worker without a lock. The
/// counters are shared objects that a reload hands to the rule of the same name, so Prometheus
/// counters never go backwards.
public final class FlowProgram: Sendable {
    public let generation: UInt64
    public let rules: FlowRules
    public let index: FlowRuleIndex
    /// Every limit's identity, by flat number.
    public let limitIDs: [FlowLimitID]
    /// Rule `r`'s limits are numbered `limitStart[r] ..< limitStart[r] + rules[r].limits.count`.
    public let limitStart: [Int]
    /// Flat limit numbers by identity (to carry permits taken under an older program).
    public let limitNumbers: [FlowLimitID: Int]
    public let counters: [FlowRuleCounters]
    /// Per rule: whether a request it matches can be decided on the spot (only local rate limits,
    /// `on_limit` not `delay`): never a wait, a store call or a slot to release at the stream's end.
    public let decidableOnHead: [Bool]
    public let store: FlowStoreConfig?
    /// The rules file, for `/flow` (empty for rules given directly).
    public let rulesPath: String

    public init(rules: FlowRules, generation: UInt64, store: FlowStoreConfig? = nil, rulesPath: String = "",
                previous: FlowProgram? = nil) {
        self.generation = generation
        self.rules = rules
        self.index = FlowRuleIndex(rules)
        var ids: [FlowLimitID] = []
        var starts: [Int] = []
        for rule in rules.rules {
            starts.append(ids.count)
            ids += FlowLimitID.identities(of: rule)
        }
        self.limitIDs = ids
        self.limitStart = starts
        self.limitNumbers = Dictionary(ids.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        let old = Dictionary((previous?.rules.rules ?? []).enumerated().map { ($0.element.name, previous!.counters[$0.offset]) },
                             uniquingKeysWith: { first, _ in first })
        self.counters = rules.rules.map { old[$0.name] ?? FlowRuleCounters() }
        self.decidableOnHead = rules.rules.map { rule in
            if case .delay = rule.onLimit { return false }
            return rule.limits.allSatisfy { limit in
                if case .rate = limit.kind, case .local = limit.scope { return true }
                return false
            }
        }
        self.store = store
        self.rulesPath = rulesPath
    }

    /// No rules: the filter passes every request without looking at it.
    public var isEmpty: Bool { rules.rules.isEmpty }

    /// Counts a request that went on past the rules it `matched`: shadowed, delayed or allowed.
    public func recordPassed(_ matched: [Int], shadowed: [Int], delayed: [Int]) {
        for rule in matched {
            counters[rule].record(shadowed.contains(rule) ? .shadowed : delayed.contains(rule) ? .delayed : .allowed)
        }
    }

    /// Finds the rules `request` matches and the key value of each of their limits.
    public func match<R: FlowRequest>(_ request: R, into result: inout FlowMatch) {
        index.matches(request, into: &result.rules)
        result.keys.removeAll(keepingCapacity: true)
        for number in result.rules {
            for limit in rules.rules[number].limits { result.keys.append(limit.key.value(for: request)) }
        }
    }
}

/// The rules a request matched (ascending rule numbers) and, for each of them in that order, the
/// key value of each of its limits. Reusable buffer.
public struct FlowMatch: Sendable, Equatable {
    public var rules: [Int] = []
    public var keys: [String] = []

    public init() {}

    public init(rules: [Int], keys: [String]) {
        self.rules = rules
        self.keys = keys
    }
}
