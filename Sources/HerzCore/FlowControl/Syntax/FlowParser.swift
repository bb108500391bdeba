/// Recursive-descent parser from tokens to ``FlowSyntaxDeclaration``s (grammar: docs/flow-control.md).
/// Hand-written: no parser-combinator package is available offline, and a hand-written parser
/// gives the exact positions and recovery the diagnostics need.
///
/// A syntax error is reported once and abandons the current `rule`/`cluster` declaration; parsing
/// resumes at the next `rule "…"` or `cluster "…"`, so one run reports one syntax error per broken
/// declaration plus everything the checker finds in the others. Nesting is bounded
/// (``maxNesting``, ``maxDepth``): hostile input gets a diagnostic, never a stack overflow.
struct FlowParser {
    static let maxNesting = 64
    static let maxDepth = 512

    /// Thrown after a syntax error has been reported; caught at declaration level.
    struct Abort: Error {}

    private let tokens: [FlowToken]
    private var position = 0
    private var nesting = 0
    private(set) var diagnostics: [FlowDiagnostic] = []

    /// `tokens` must end with `.endOfFile` (as ``FlowLexer/tokenize()`` guarantees).
    init(tokens: [FlowToken]) {
        self.tokens = tokens.last?.kind == .endOfFile ? tokens
            : tokens + [FlowToken(kind: .endOfFile, location: tokens.last?.location ?? SourceLocation(file: "", line: 0, column: 0))]
    }

    mutating func parseFile() -> [FlowSyntaxDeclaration] {
        var declarations: [FlowSyntaxDeclaration] = []
        while current.kind != .endOfFile {
            let start = position
            do {
                declarations.append(try parseDeclaration())
            } catch {
                if position == start { advance() }
                while current.kind != .endOfFile && !isDeclarationStart { advance() }
            }
        }
        return declarations
    }

    // MARK: - Declarations and blocks

    private mutating func parseDeclaration() throws(Abort) -> FlowSyntaxDeclaration {
        let keywordToken = current
        guard case .identifier(let keyword) = keywordToken.kind, keyword == "rule" || keyword == "cluster" else {
            throw fail(expected: "'rule' or 'cluster'")
        }
        advance()
        guard case .string(let name) = current.kind else { throw fail(expected: "the \(keyword) name in double quotes") }
        let nameLocation = current.location
        advance()
        let body = try parseBlock()
        return FlowSyntaxDeclaration(keyword: keyword, keywordLocation: keywordToken.location, name: name,
                                     nameLocation: nameLocation, body: body)
    }

    private mutating func parseBlock() throws(Abort) -> FlowSyntaxBlock {
        let open = current.location
        try expect(.leftBrace)
        var entries: [FlowSyntaxEntry] = []
        while !current.isSymbol(.rightBrace) {
            if current.kind == .endOfFile || isDeclarationStart {
                throw report(.unclosedBlock(opened: open, found: current.description), at: current.location)
            }
            entries.append(try parseEntry())
            if current.isSymbol(.comma) { advance() }
        }
        advance()
        return FlowSyntaxBlock(location: open, entries: entries)
    }

    private mutating func parseEntry() throws(Abort) -> FlowSyntaxEntry {
        if case .identifier(let name) = current.kind, peek(1).isSymbol(.colon) {
            let location = current.location
            advance(); advance()
            return FlowSyntaxEntry(key: (name, location), value: try parseValue())
        }
        return FlowSyntaxEntry(key: nil, value: try parseValue())
    }

    // MARK: - Expressions, lowest precedence first

    private mutating func parseValue() throws(Abort) -> FlowSyntaxNode {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maxNesting else { throw report(.nestingTooDeep(limit: Self.maxNesting), at: current.location) }
        return try parseInfix(.over)
    }

    /// One precedence level of left-associative `over`, `||` and `&&` chains, built iteratively.
    private mutating func parseInfix(_ level: FlowBinaryOperator) throws(Abort) -> FlowSyntaxNode {
        var lhs = try parseOperand(of: level)
        while matches(level) {
            let location = current.location
            advance()
            let rhs = try parseOperand(of: level)
            lhs = try node(.binary(level, lhs, rhs), at: location)
        }
        return lhs
    }

    private mutating func parseOperand(of level: FlowBinaryOperator) throws(Abort) -> FlowSyntaxNode {
        switch level {
        case .over: return try parseInfix(.or)
        case .or: return try parseInfix(.and)
        default: return try parseComparison()
        }
    }

    /// Comparisons do not chain: `a == b == c` is an error rather than a surprise.
    private mutating func parseComparison() throws(Abort) -> FlowSyntaxNode {
        let lhs = try parseUnary()
        guard let comparison = FlowBinaryOperator.comparison(current) else { return lhs }
        let location = current.location
        advance()
        let rhs = try parseUnary()
        if FlowBinaryOperator.comparison(current) != nil {
            throw fail(expected: "'&&', '||' or the end of the expression (comparisons do not chain)")
        }
        return try node(.binary(comparison, lhs, rhs), at: location)
    }

    private mutating func parseUnary() throws(Abort) -> FlowSyntaxNode {
        guard current.isSymbol(.not) else { return try parsePostfix() }
        let location = current.location
        advance()
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maxNesting else { throw report(.nestingTooDeep(limit: Self.maxNesting), at: location) }
        return try node(.not(try parseUnary()), at: location)
    }

    private mutating func parsePostfix() throws(Abort) -> FlowSyntaxNode {
        var target = try parsePrimary()
        while true {
            if current.isSymbol(.dot) {
                advance()
                guard case .identifier(let name) = current.kind else { throw fail(expected: "a method name after '.'") }
                let location = current.location
                advance()
                try expect(.leftParen)
                target = try node(.method(target: target, name: name, arguments: try parseArguments()), at: location)
            } else if current.isSymbol(.leftBracket) {
                let location = current.location
                advance()
                let key = try parseValue()
                try expect(.rightBracket)
                target = try node(.index(target: target, key: key), at: location)
            } else {
                return target
            }
        }
    }

    private mutating func parsePrimary() throws(Abort) -> FlowSyntaxNode {
        let token = current
        switch token.kind {
        case .identifier(let name):
            advance()
            guard current.isSymbol(.leftParen) else { return try node(.identifier(name), at: token.location) }
            advance()
            let arguments = try parseArguments()
            var trailing: FlowSyntaxBlock?
            if current.isSymbol(.leftBrace) { trailing = try parseBlock() }
            return try node(.call(name: name, arguments: arguments, trailing: trailing), at: token.location)
        case .string(let text):
            advance()
            return try node(.string(text), at: token.location)
        case .number(let text):
            advance()
            return try node(.number(text), at: token.location)
        case .symbol(.leftBracket):
            advance()
            let items = try parseSequence(closedBy: .rightBracket) { parser throws(Abort) in try parser.parseValue() }
            return try node(.list(items), at: token.location)
        case .symbol(.leftBrace):
            return try node(.block(try parseBlock()), at: token.location)
        case .symbol(.leftParen):
            advance()
            let inner = try parseValue()
            try expect(.rightParen)
            return try node(.parenthesized(inner), at: token.location)
        default:
            throw fail(expected: "a value")
        }
    }

    /// After `(`: `[label:] value {, [label:] value} )`.
    private mutating func parseArguments() throws(Abort) -> [FlowSyntaxEntry] {
        try parseSequence(closedBy: .rightParen) { parser throws(Abort) in try parser.parseEntry() }
    }

    /// `element {, element} [,] closing`, or just `closing`.
    private mutating func parseSequence<Element>(closedBy closing: FlowSymbol,
                                                 _ element: (inout FlowParser) throws(Abort) -> Element) throws(Abort) -> [Element] {
        var elements: [Element] = []
        while !current.isSymbol(closing) {
            elements.append(try element(&self))
            guard current.isSymbol(.comma) else { break }
            advance()
        }
        try expect(closing)
        return elements
    }

    // MARK: - Helpers

    private var current: FlowToken { tokens[min(position, tokens.count - 1)] }

    private func peek(_ ahead: Int) -> FlowToken { tokens[min(position + ahead, tokens.count - 1)] }

    private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    /// `rule "…"` or `cluster "…"`: where recovery resumes.
    private var isDeclarationStart: Bool {
        guard current.isIdentifier("rule") || current.isIdentifier("cluster") else { return false }
        if case .string = peek(1).kind { return true }
        return false
    }

    private func matches(_ level: FlowBinaryOperator) -> Bool {
        switch level {
        case .over: return current.isIdentifier("over")
        case .or: return current.isSymbol(.or)
        default: return current.isSymbol(.and)
        }
    }

    private mutating func expect(_ symbol: FlowSymbol) throws(Abort) {
        guard current.isSymbol(symbol) else { throw fail(expected: "'\(symbol.rawValue)'") }
        advance()
    }

    private mutating func node(_ kind: FlowSyntaxNode.Kind, at location: SourceLocation) throws(Abort) -> FlowSyntaxNode {
        let built = FlowSyntaxNode(kind, at: location)
        guard built.depth <= Self.maxDepth else { throw report(.nestingTooDeep(limit: Self.maxDepth), at: location) }
        return built
    }

    private mutating func fail(expected what: String) -> Abort {
        report(.expected(what, found: current.description), at: current.location)
    }

    private mutating func report(_ kind: FlowDiagnostic.Kind, at location: SourceLocation) -> Abort {
        diagnostics.append(FlowDiagnostic(kind, at: location))
        return Abort()
    }
}
