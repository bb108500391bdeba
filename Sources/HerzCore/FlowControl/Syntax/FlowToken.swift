/// One lexical token of a flow-rules file, with where it starts.
///
/// Numbers keep their raw text (`100`, `1.5s`, `50%`, `100/s`, `10.0.0.0/8`): what a number means
/// (count, duration, rate, percentage, IP/CIDR) depends on where it stands, so the checker reads it
/// in context and can say `bad rate '100/x'` rather than a generic lexer error.
struct FlowToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier(String)
        case string(String)
        case number(String)
        case symbol(FlowSymbol)
        case endOfFile
    }

    var kind: Kind
    var location: SourceLocation

    /// How the token reads in a message: `identifier 'foo'`, `string "x"`, `'}'`, `end of file`.
    var description: String {
        switch kind {
        case .identifier(let name): return "identifier '\(name)'"
        case .string(let text): return "string \"\(text)\""
        case .number(let text): return "'\(text)'"
        case .symbol(let symbol): return "'\(symbol.rawValue)'"
        case .endOfFile: return "end of file"
        }
    }

    func isSymbol(_ symbol: FlowSymbol) -> Bool { kind == .symbol(symbol) }

    func isIdentifier(_ name: String) -> Bool { kind == .identifier(name) }
}

/// Punctuation and operators. Word operators (`in`, `over`) are identifiers the parser recognises.
enum FlowSymbol: String, Sendable, Equatable, CaseIterable {
    case leftBrace = "{", rightBrace = "}", leftParen = "(", rightParen = ")"
    case leftBracket = "[", rightBracket = "]", comma = ",", colon = ":", dot = "."
    case equal = "==", notEqual = "!=", and = "&&", or = "||", not = "!"
    case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="
}
