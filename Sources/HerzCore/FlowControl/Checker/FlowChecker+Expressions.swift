/// Match expressions: names resolve to request attributes, comparisons take a literal of the
/// attribute's type on the right, `&&`/`||` chains are flattened iteratively (no deep recursion).
extension FlowChecker {
    static let stringMethods = ["startsWith", "endsWith", "matches", "exists"]

    /// A condition (`match:`); nil after reporting why it is not one. Every operand of a chain is
    /// checked even after one fails, so all its errors are reported.
    mutating func condition(_ node: FlowSyntaxNode) -> FlowExpr? {
        switch node.kind {
        case .parenthesized(let inner):
            return condition(inner)
        case .identifier("true"):
            return .constant(true)
        case .identifier("false"):
            return .constant(false)
        case .not(let operand):
            return condition(operand).map { .not($0) }
        case .binary(let op, _, _) where op == .and || op == .or:
            let operands = flatten(node, op).map { condition($0) }
            guard operands.allSatisfy({ $0 != nil }) else { return nil }
            return op == .and ? .all(operands.compactMap { $0 }) : .any(operands.compactMap { $0 })
        case .binary(let op, let lhs, let rhs) where op == .equal || op == .notEqual || op == .in:
            return comparison(op, lhs, rhs)
        case .binary(let op, _, _):
            report(.wrongType("'\(op.rawValue)' is only used in a breaker condition (error_rate > 50% over 10s)"), at: node.location)
            return nil
        case .method(let target, let name, let arguments):
            return methodCall(target, name, arguments, at: node.location)
        case .identifier, .index:
            guard let attribute = attribute(node) else { return nil }
            report(.wrongType("expected a condition, found \(attribute) (\(Self.typeName(attribute))); compare it, e.g. \(Self.example(attribute))"),
                   at: node.location)
            return nil
        default:
            report(.wrongType("expected a condition, found \(describe(node))"), at: node.location)
            return nil
        }
    }

    /// `method`, `path`, `host`, `client_ip`, `header["x"]`, `query["x"]`, `metadata["x"]`.
    mutating func attribute(_ node: FlowSyntaxNode) -> FlowAttribute? {
        switch node.kind {
        case .identifier("method"): return .method
        case .identifier("path"): return .path
        case .identifier("host"): return .host
        case .identifier("client_ip"): return .clientIP
        case .identifier(let name) where ["header", "query", "metadata"].contains(name):
            report(.wrongType("\(name) needs a name in brackets, e.g. \(name)[\"x-tenant\"]"), at: node.location)
            return nil
        case .identifier(let name):
            report(.unknownIdentifier(name, known: FlowAttribute.knownNames), at: node.location)
            return nil
        case .index(let target, let key):
            return indexedAttribute(target, key, at: node.location)
        case .parenthesized(let inner):
            return attribute(inner)
        default:
            report(.wrongType("expected a request attribute (method, path, host, client_ip, header[…], query[…], metadata[…]), found \(describe(node))"),
                   at: node.location)
            return nil
        }
    }

    private mutating func indexedAttribute(_ target: FlowSyntaxNode, _ key: FlowSyntaxNode, at location: SourceLocation) -> FlowAttribute? {
        guard case .identifier(let name) = target.kind, ["header", "query", "metadata"].contains(name) else {
            report(.wrongType("only header, query and metadata take [\"name\"], found \(describe(target))"), at: target.location)
            return nil
        }
        guard case .string(let text) = key.kind, !text.isEmpty else {
            report(.wrongType("\(name)[…] needs a non-empty name in double quotes, found \(describe(key))"), at: key.location)
            return nil
        }
        switch name {
        case "header": return .header(text.lowercased())
        case "query": return .query(text)
        default: return .metadata(text)
        }
    }

    // MARK: - Comparisons

    private mutating func comparison(_ op: FlowBinaryOperator, _ lhs: FlowSyntaxNode, _ rhs: FlowSyntaxNode) -> FlowExpr? {
        guard let attribute = attribute(lhs) else { return nil }
        if attribute == .clientIP {
            let ranges = op == .in ? addressList(rhs) : addressRange(rhs).map { [$0] }
            guard let ranges else { return nil }
            let test = FlowExpr.predicate(.clientIPIn(ranges))
            return op == .notEqual ? .not(test) : test
        }
        if op == .in {
            guard case .list(let items) = rhs.kind else {
                report(.wrongType("'in' needs a list of strings, e.g. \(attribute) in [\"a\", \"b\"], found \(describe(rhs))"), at: rhs.location)
                return nil
            }
            guard !items.isEmpty else {
                report(.wrongType("'in []' is never true; list at least one value"), at: rhs.location)
                return nil
            }
            let literals = items.map { literal($0, for: attribute) }
            guard literals.allSatisfy({ $0 != nil }) else { return nil }
            return .predicate(.oneOf(attribute, literals.compactMap { $0 }))
        }
        guard let text = literal(rhs, for: attribute) else { return nil }
        let test = FlowExpr.predicate(.equals(attribute, text))
        return op == .notEqual ? .not(test) : test
    }

    /// `client_ip in 10.0.0.0/8` or `client_ip in [10.0.0.0/8, "fd00::/8"]`.
    private mutating func addressList(_ node: FlowSyntaxNode) -> [FlowCIDR]? {
        guard case .list(let items) = node.kind else { return addressRange(node).map { [$0] } }
        guard !items.isEmpty else {
            report(.wrongType("'in []' is never true; list at least one address or CIDR"), at: node.location)
            return nil
        }
        let ranges = items.map { addressRange($0) }
        guard ranges.allSatisfy({ $0 != nil }) else { return nil }
        return ranges.compactMap { $0 }
    }

    /// A string literal for a string attribute, normalised: host lower-cased; a method must be
    /// upper case (methods are case-sensitive, so `"get"` would never match).
    private mutating func literal(_ node: FlowSyntaxNode, for attribute: FlowAttribute) -> String? {
        guard case .string(let text) = node.kind else {
            report(.wrongType("\(attribute) is a string; compare it with a string in double quotes, found \(describe(node))"), at: node.location)
            return nil
        }
        if attribute == .method, text != text.uppercased() || text.isEmpty {
            report(.outOfRange(key: "method", value: "\"\(text)\"", accepted: "an upper-case HTTP method such as \"\(text.uppercased())\""),
                   at: node.location)
            return nil
        }
        return attribute.isCaseInsensitive ? text.lowercased() : text
    }

    // MARK: - Methods

    private mutating func methodCall(_ target: FlowSyntaxNode, _ name: String, _ arguments: [FlowSyntaxEntry],
                                     at location: SourceLocation) -> FlowExpr? {
        guard Self.stringMethods.contains(name) else {
            report(.unknownMethod(name, known: Self.stringMethods), at: location)
            return nil
        }
        guard let attribute = attribute(target) else { return nil }
        if attribute == .clientIP {
            report(.wrongType("\(name) applies to strings, but client_ip is an IP address; use client_ip in 10.0.0.0/8"), at: location)
            return nil
        }
        if name == "exists" {
            guard attribute.mayBeAbsent else {
                report(.wrongType("exists applies to header[…], query[…] and metadata[…]; \(attribute) is always present"), at: location)
                return nil
            }
            guard arguments.isEmpty else {
                report(.wrongType("exists takes no arguments"), at: arguments[0].value.location)
                return nil
            }
            return .predicate(.exists(attribute))
        }
        guard arguments.count == 1, arguments[0].key == nil, case .string(let text) = arguments[0].value.kind else {
            report(.wrongType("\(name) takes one string, e.g. \(attribute).\(name)(\"/v1\")"), at: arguments.first?.value.location ?? location)
            return nil
        }
        let literal = attribute.isCaseInsensitive ? text.lowercased() : text
        switch name {
        case "startsWith": return .predicate(.hasPrefix(attribute, literal))
        case "endsWith": return .predicate(.hasSuffix(attribute, literal))
        default:
            do {
                return .predicate(.matches(attribute, try FlowRegex(text, caseSensitive: !attribute.isCaseInsensitive)))
            } catch {
                report(.invalidRegex(pattern: text, reason: error.reason), at: arguments[0].value.location)
                return nil
            }
        }
    }

    // MARK: - Helpers

    /// The operands of a left-leaning chain of one operator, left to right, without recursion.
    private func flatten(_ node: FlowSyntaxNode, _ op: FlowBinaryOperator) -> [FlowSyntaxNode] {
        var operands: [FlowSyntaxNode] = []
        var current = node
        while case .binary(op, let lhs, let rhs) = current.kind {
            operands.append(rhs)
            current = lhs
        }
        operands.append(current)
        return operands.reversed()
    }

    private static func typeName(_ attribute: FlowAttribute) -> String {
        attribute == .clientIP ? "an IP address" : "a string"
    }

    private static func example(_ attribute: FlowAttribute) -> String {
        switch attribute {
        case .clientIP: return "client_ip in 10.0.0.0/8"
        case .method: return "method == \"GET\""
        case .path: return "path.startsWith(\"/v1\")"
        default: return "\(attribute) == \"value\""
        }
    }
}
