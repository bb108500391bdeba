/// Finds the rules that match a request without evaluating every rule (scheme:
/// docs/flow-control.md, "Indexed evaluation"). Each rule is filed, from the necessary conditions
/// of its match expression (``FlowIndexHint``), under the methods it can match — or under "any
/// method" — and, in that method's ``FlowPathTrie``, under the literal path prefixes it can match —
/// or at the root. A request visits two tries (its method's and "any method"), one node per path
/// byte, and evaluates only the rules found there — except rules whose whole match expression is
/// what filing them proved (``FlowIndexHint/isProvenByIndex(_:)``, e.g. `path.startsWith("/api")`).
///
/// Guarantee (property-tested): the result is exactly the rules a linear scan would match, in
/// declaration order. Immutable and `Sendable`; lookups allocate nothing beyond the caller's
/// reusable buffer (and whatever a regex match costs).
public struct FlowRuleIndex: Sendable {
    public let rules: [FlowRule]
    private let byMethod: [String: FlowPathTrie]
    private let anyMethod: FlowPathTrie
    /// Rules that no request can match (e.g. `method == "GET" && method == "POST"`).
    public let unreachable: [Int]
    /// Per rule: its match must still be evaluated on a candidate (false when the index proved it).
    private let needsEvaluation: [Bool]

    public init(rules: [FlowRule]) {
        self.rules = rules
        var byMethod: [String: FlowPathTrie] = [:]
        var anyMethod = FlowPathTrie()
        var unreachable: [Int] = []
        for (number, rule) in rules.enumerated() {
            let hint = FlowIndexHint(rule.match)
            let prefixes = hint.prefixes ?? [""]
            if hint.methods?.isEmpty == true || prefixes.isEmpty {
                unreachable.append(number)
                continue
            }
            for prefix in prefixes {
                if let methods = hint.methods {
                    for method in methods { byMethod[method, default: FlowPathTrie()].insert(prefix: prefix, rule: number) }
                } else {
                    anyMethod.insert(prefix: prefix, rule: number)
                }
            }
        }
        self.byMethod = byMethod
        self.anyMethod = anyMethod
        self.unreachable = unreachable
        self.needsEvaluation = rules.map { !FlowIndexHint.isProvenByIndex($0.match) }
    }

    public init(_ rules: FlowRules) { self.init(rules: rules.rules) }

    /// Replaces `result`'s contents with the numbers (indices into ``rules``) of the rules matching
    /// `request`, ascending. Reuse one buffer per worker to keep lookups allocation-free.
    public func matches<R: FlowRequest>(_ request: R, into result: inout [Int]) {
        candidates(request, into: &result)
        var kept = 0
        for position in result.indices
        where !needsEvaluation[result[position]] || rules[result[position]].match.evaluate(request) {
            result[kept] = result[position]
            kept += 1
        }
        result.removeLast(result.count - kept)
    }

    /// The rules the index cannot rule out for `request` (ascending, no repeats): the only ones
    /// whose expressions ``matches(_:into:)`` evaluates.
    func candidates<R: FlowRequest>(_ request: R, into result: inout [Int]) {
        result.removeAll(keepingCapacity: true)
        let path = request.path.utf8
        if let trie = byMethod[String(request.method)] { trie.collect(path: path, into: &result) }
        anyMethod.collect(path: path, into: &result)
        Self.sortUnique(&result)
    }

    /// The matching rules themselves, in declaration order (allocates; for tests and tools).
    public func matchingRules<R: FlowRequest>(_ request: R) -> [FlowRule] {
        var numbers: [Int] = []
        matches(request, into: &numbers)
        return numbers.map { rules[$0] }
    }

    /// Sorts in place (insertion sort for the usual short lists, which allocates nothing), then
    /// drops repeats.
    private static func sortUnique(_ numbers: inout [Int]) {
        guard numbers.count > 1 else { return }
        if numbers.count > 32 { numbers.sort() }
        for position in 1..<numbers.count {
            let value = numbers[position]
            var slot = position
            while slot > 0 && numbers[slot - 1] > value {
                numbers[slot] = numbers[slot - 1]
                slot -= 1
            }
            numbers[slot] = value
        }
        var kept = 1
        for position in 1..<numbers.count where numbers[position] != numbers[kept - 1] {
            numbers[kept] = numbers[position]
            kept += 1
        }
        numbers.removeLast(numbers.count - kept)
    }
}
