import NIOCore

/// A checked flow-rules file: the rules in declaration order and the cluster policies. Immutable
/// and `Sendable`: one value is built per (re)load and shared by every worker; the mutable
/// counters live in ``FlowRuntimeState``.
///
/// Guarantees: rule names are unique, cluster names are unique, every regex compiled, every
/// number in range. A file that breaks any of these is refused as a whole (``FlowRulesError``).
public struct FlowRules: Sendable, Equatable {
    public let rules: [FlowRule]
    public let clusters: [FlowCluster]

    public init(rules: [FlowRule], clusters: [FlowCluster]) {
        self.rules = rules
        self.clusters = clusters
    }

    /// Lexes, parses and checks `source`; `file` is used in positions only. Throws every problem
    /// found (several per run: lexing and checking never stop early, and a syntax error abandons
    /// only its own `rule`/`cluster` block). Never traps, whatever the input.
    public static func parse(source: String, file: String) throws(FlowRulesError) -> FlowRules {
        var lexer = FlowLexer(source: source, file: file)
        let tokens = lexer.tokenize()
        var parser = FlowParser(tokens: tokens)
        let declarations = parser.parseFile()
        var checker = FlowChecker()
        let rules = checker.check(declarations)
        let diagnostics = (lexer.diagnostics + parser.diagnostics + checker.diagnostics).enumerated().sorted {
            ($0.element.location.line, $0.element.location.column, $0.offset) < ($1.element.location.line, $1.element.location.column, $1.offset)
        }.map(\.element)
        guard diagnostics.isEmpty else { throw FlowRulesError(diagnostics) }
        return rules
    }

    public func rule(named name: String) -> FlowRule? { rules.first { $0.name == name } }

    public func cluster(named name: String) -> FlowCluster? { clusters.first { $0.name == name } }
}

/// `rule "name" { match: …  limit: { … }…  on_limit: … }`: which requests (``match``), which
/// budgets they draw from (``limits``, all of which must admit), and what happens when one is
/// exhausted (``onLimit``).
public struct FlowRule: Sendable, Equatable {
    public var name: String
    public var location: SourceLocation
    public var match: FlowExpr
    public var limits: [FlowLimit]
    public var onLimit: FlowOnLimit

    public init(name: String, location: SourceLocation, match: FlowExpr, limits: [FlowLimit], onLimit: FlowOnLimit) {
        self.name = name
        self.location = location
        self.match = match
        self.limits = limits
        self.onLimit = onLimit
    }
}

/// What a rule does to a request that a limit refuses.
public enum FlowOnLimit: Sendable, Equatable {
    /// Local reply with `status` (400...599) and a `retry-after` header as ``FlowRetryAfter`` says.
    case reject(status: Int, retryAfter: FlowRetryAfter)
    /// Hold the request until the limit admits it, if that is at most `max` away; else reject 429.
    case delay(max: TimeAmount)
    /// Let it through and count it as limited (to try a rule before enforcing it).
    case shadow

    /// `reject(429, retry_after: auto)`, the default when a rule has no `on_limit`.
    public static let defaultAction = FlowOnLimit.reject(status: 429, retryAfter: .auto)
}

/// The `retry-after` of a rejection.
public enum FlowRetryAfter: Sendable, Equatable {
    /// From the limit's own state: whole seconds until it would admit, rounded up, at least 1.
    case auto
    case none
    case fixed(seconds: Int)

    /// The header value in seconds for a limit that would admit in `waitNanos`; nil for no header.
    public func seconds(waitNanos: UInt64) -> Int? {
        switch self {
        case .auto: return max(1, Int(clamping: waitNanos / 1_000_000_000 + (waitNanos % 1_000_000_000 == 0 ? 0 : 1)))
        case .none: return nil
        case .fixed(let seconds): return seconds
        }
    }
}
