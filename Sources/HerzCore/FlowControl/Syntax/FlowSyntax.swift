/// The untyped syntax tree the parser builds: blocks of `key: value` entries whose values are
/// expressions. It knows nothing of which keys exist or what types they take; ``FlowChecker``
/// turns it into the checked ``FlowRules`` model and reports every misuse with its position.

/// `rule "name" { … }` or `cluster "name" { … }`.
struct FlowSyntaxDeclaration: Sendable {
    var keyword: String
    var keywordLocation: SourceLocation
    var name: String
    var nameLocation: SourceLocation
    var body: FlowSyntaxBlock
}

/// `{ entry [,] entry … }`.
struct FlowSyntaxBlock: Sendable {
    var location: SourceLocation
    var entries: [FlowSyntaxEntry]

    var depth: Int { 1 + (entries.map(\.value.depth).max() ?? 0) }
}

/// `key: value`, or a bare value (a breaker's `error_rate > 50% over 10s`); also a call's
/// argument (`retry_after: auto`, or a positional `429`), which has the same shape.
struct FlowSyntaxEntry: Sendable {
    /// The key and where it is; nil for a bare value.
    var key: (name: String, location: SourceLocation)?
    var value: FlowSyntaxNode
}

/// One expression node and where it starts (for binary nodes: where the operator is).
struct FlowSyntaxNode: Sendable {
    indirect enum Kind: Sendable {
        case identifier(String)
        case string(String)
        case number(String)
        case list([FlowSyntaxNode])
        case block(FlowSyntaxBlock)
        /// `name(args)` with an optional trailing block: `reject(429)`, `dynamic(latency_p95) { … }`.
        case call(name: String, arguments: [FlowSyntaxEntry], trailing: FlowSyntaxBlock?)
        /// `target.name(args)`: `path.startsWith("/v1")`.
        case method(target: FlowSyntaxNode, name: String, arguments: [FlowSyntaxEntry])
        /// `target[key]`: `header["x-tenant"]`.
        case index(target: FlowSyntaxNode, key: FlowSyntaxNode)
        case not(FlowSyntaxNode)
        case binary(FlowBinaryOperator, FlowSyntaxNode, FlowSyntaxNode)
        /// `( value )`, kept so that messages can point at what the author grouped.
        case parenthesized(FlowSyntaxNode)
    }

    var kind: Kind
    var location: SourceLocation
    /// Levels of nodes below and including this one; the parser refuses trees deeper than a bound
    /// so that no later recursion (checking, releasing) can exhaust the stack.
    let depth: Int

    init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
        self.depth = 1 + Self.childDepth(of: kind)
    }

    private static func childDepth(of kind: Kind) -> Int {
        switch kind {
        case .identifier, .string, .number: return 0
        case .list(let items): return items.map(\.depth).max() ?? 0
        case .block(let block): return block.depth
        case .call(_, let arguments, let trailing): return max(arguments.map(\.value.depth).max() ?? 0, trailing?.depth ?? 0)
        case .method(let target, _, let arguments): return max(target.depth, arguments.map(\.value.depth).max() ?? 0)
        case .index(let target, let key): return max(target.depth, key.depth)
        case .not(let operand), .parenthesized(let operand): return operand.depth
        case .binary(_, let lhs, let rhs): return max(lhs.depth, rhs.depth)
        }
    }
}

/// Infix operators, by the precedence the parser gives them (lowest first): `over`, `||`, `&&`,
/// then the non-associative comparisons.
enum FlowBinaryOperator: String, Sendable, Equatable {
    case over, or = "||", and = "&&"
    case equal = "==", notEqual = "!=", `in`, greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="

    /// The comparison a token spells, if any.
    static func comparison(_ token: FlowToken) -> FlowBinaryOperator? {
        switch token.kind {
        case .symbol(.equal): return .equal
        case .symbol(.notEqual): return .notEqual
        case .symbol(.greater): return .greater
        case .symbol(.greaterOrEqual): return .greaterOrEqual
        case .symbol(.less): return .less
        case .symbol(.lessOrEqual): return .lessOrEqual
        case .identifier("in"): return .in
        default: return nil
        }
    }
}
