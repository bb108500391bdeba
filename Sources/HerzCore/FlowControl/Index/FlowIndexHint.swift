/// Necessary conditions read off a match expression, for the index: if the expression is true for
/// a request, that request's method is in ``methods`` and its path starts with one of
/// ``prefixes``. nil means "no constraint found"; an empty set or list means the expression can
/// never be true. Sound by construction (each rule below only weakens), never complete: the index
/// uses it to skip rules, and still evaluates the whole expression of every candidate.
struct FlowIndexHint: Equatable {
    var methods: Set<String>?
    var prefixes: [String]?

    static let anything = FlowIndexHint(methods: nil, prefixes: nil)
    static let nothing = FlowIndexHint(methods: [], prefixes: [])

    init(methods: Set<String>?, prefixes: [String]?) {
        self.methods = methods
        self.prefixes = prefixes
    }

    init(_ expression: FlowExpr) {
        switch expression {
        case .constant(let value): self = value ? .anything : .nothing
        case .predicate(let predicate): self = Self.hint(predicate)
        case .not: self = .anything
        case .all(let operands): self = operands.map(FlowIndexHint.init).reduce(.anything, Self.both)
        case .any(let operands): self = operands.isEmpty ? .nothing : operands.map(FlowIndexHint.init).reduce(.nothing, Self.either)
        }
    }

    /// Whether finding a rule with this match in the index already proves the match: a
    /// conjunction of method tests (the method's trie was searched) and at most one path prefix
    /// (the trie node reached), nothing else. Such rules are not evaluated again.
    static func isProvenByIndex(_ expression: FlowExpr) -> Bool {
        var prefixes = 0
        func proven(_ expression: FlowExpr) -> Bool {
            switch expression {
            case .constant(let value): return value
            case .predicate(.equals(.method, _)), .predicate(.oneOf(.method, _)): return true
            case .predicate(.hasPrefix(.path, _)):
                prefixes += 1
                return prefixes == 1
            case .all(let operands): return operands.allSatisfy(proven)
            default: return false
            }
        }
        return proven(expression)
    }

    private static func hint(_ predicate: FlowPredicate) -> FlowIndexHint {
        switch predicate {
        case .equals(.method, let method): return FlowIndexHint(methods: [method], prefixes: nil)
        case .oneOf(.method, let methods): return FlowIndexHint(methods: Set(methods), prefixes: nil)
        case .equals(.path, let path), .hasPrefix(.path, let path): return FlowIndexHint(methods: nil, prefixes: [path])
        case .oneOf(.path, let paths): return FlowIndexHint(methods: nil, prefixes: paths)
        default: return .anything
        }
    }

    /// `a && b`: both hold, so methods intersect and either side's prefixes will do (the more
    /// selective one is kept: the longer shortest prefix).
    private static func both(_ a: FlowIndexHint, _ b: FlowIndexHint) -> FlowIndexHint {
        let methods: Set<String>? = switch (a.methods, b.methods) {
        case let (x?, y?): x.intersection(y)
        case let (x, y): x ?? y
        }
        return FlowIndexHint(methods: methods, prefixes: selective(a.prefixes, b.prefixes))
    }

    /// `a || b`: one holds, so constraints survive only when both sides have one.
    private static func either(_ a: FlowIndexHint, _ b: FlowIndexHint) -> FlowIndexHint {
        let methods: Set<String>? = switch (a.methods, b.methods) {
        case let (x?, y?): x.union(y)
        default: nil
        }
        let prefixes: [String]? = switch (a.prefixes, b.prefixes) {
        case let (x?, y?): x + y
        default: nil
        }
        return FlowIndexHint(methods: methods, prefixes: prefixes)
    }

    private static func selective(_ a: [String]?, _ b: [String]?) -> [String]? {
        guard let a else { return b }
        guard let b else { return a }
        func strength(_ list: [String]) -> Int { list.map(\.utf8.count).min() ?? Int.max }
        return strength(b) > strength(a) ? b : a
    }
}
