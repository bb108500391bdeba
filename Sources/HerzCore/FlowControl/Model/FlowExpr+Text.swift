/// Canonical DSL text of checked expressions: what `/flow` and `--check` print, and what the
/// tests parse again (`parse(text(e)) == e`, structurally). Parentheses appear exactly where the
/// structure needs them; `!(a == b)` prints as `a != b`.
extension FlowExpr: CustomStringConvertible {
    public var description: String {
        switch self {
        case .constant(let value): return value ? "true" : "false"
        case .predicate(let predicate): return predicate.description
        case .not(.predicate(.equals(let attribute, let literal))): return "\(attribute) != \(FlowExpr.quoted(literal))"
        case .not(.predicate(.clientIPIn(let ranges))) where ranges.count == 1: return "client_ip != \(FlowExpr.address(ranges[0]))"
        case .not(let operand): return "!" + (operand.isAtomic ? operand.description : "(\(operand))")
        case .all(let operands) where operands.isEmpty: return "true"
        case .any(let operands) where operands.isEmpty: return "false"
        case .all(let operands): return operands.map { $0.isAny || $0.isAll ? "(\($0))" : $0.description }.joined(separator: " && ")
        case .any(let operands): return operands.map { $0.isAny ? "(\($0))" : $0.description }.joined(separator: " || ")
        }
    }

    /// Prints without parentheses after `!`: constants, negations and method calls.
    private var isAtomic: Bool {
        switch self {
        case .constant, .not: return true
        case .predicate(let predicate): return predicate.isMethodCall
        case .all, .any: return false
        }
    }

    private var isAll: Bool { if case .all = self { return true } else { return false } }

    private var isAny: Bool { if case .any = self { return true } else { return false } }

    /// A string literal with `\\ \" \n \t` escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default: result.append(character)
            }
        }
        return result + "\""
    }

    /// IPv4 ranges bare (`10.0.0.0/8`), IPv6 ranges in quotes (the lexer reads `:` as punctuation).
    static func address(_ range: FlowCIDR) -> String {
        range.network.isIPv4 && range.prefixLength >= 96 ? range.description : quoted(range.description)
    }
}

extension FlowPredicate: CustomStringConvertible {
    public var description: String {
        switch self {
        case .equals(let attribute, let literal): return "\(attribute) == \(FlowExpr.quoted(literal))"
        case .oneOf(let attribute, let literals): return "\(attribute) in [\(literals.map(FlowExpr.quoted).joined(separator: ", "))]"
        case .hasPrefix(let attribute, let literal): return "\(attribute).startsWith(\(FlowExpr.quoted(literal)))"
        case .hasSuffix(let attribute, let literal): return "\(attribute).endsWith(\(FlowExpr.quoted(literal)))"
        case .matches(let attribute, let regex): return "\(attribute).matches(\(FlowExpr.quoted(regex.pattern)))"
        case .exists(let attribute): return "\(attribute).exists()"
        case .clientIPIn(let ranges) where ranges.count == 1: return "client_ip in \(FlowExpr.address(ranges[0]))"
        case .clientIPIn(let ranges): return "client_ip in [\(ranges.map(FlowExpr.address).joined(separator: ", "))]"
        }
    }

    var isMethodCall: Bool {
        switch self {
        case .hasPrefix, .hasSuffix, .matches, .exists: return true
        case .equals, .oneOf, .clientIPIn: return false
        }
    }
}
