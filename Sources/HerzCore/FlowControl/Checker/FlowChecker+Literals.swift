import NIOCore

/// Literal values read in context: what a number token means depends on the key it is given to,
/// so each reader reports its own precise message (`bad rate '100/x'`, `bad duration '5x'`).
extension FlowChecker {
    /// How a node reads in a "found …" message.
    func describe(_ node: FlowSyntaxNode) -> String {
        switch node.kind {
        case .identifier(let name): return "identifier '\(name)'"
        case .string(let text): return "string \"\(text)\""
        case .number(let text): return "number '\(text)'"
        case .list: return "a list"
        case .block: return "a block"
        case .call(let name, _, _): return "call '\(name)(…)'"
        case .method(_, let name, _): return "call '.\(name)(…)'"
        case .index(let target, _): return "'\(describeTarget(target))[…]'"
        case .not: return "a '!' condition"
        case .binary(let op, _, _): return "a '\(op.rawValue)' expression"
        case .parenthesized(let inner): return describe(inner)
        }
    }

    private func describeTarget(_ node: FlowSyntaxNode) -> String {
        if case .identifier(let name) = node.kind { return name }
        return "…"
    }

    /// The raw text of a number token, or a type error naming `key`.
    mutating func numberText(_ node: FlowSyntaxNode, key: String, expected: String) -> String? {
        if case .number(let text) = node.kind { return text }
        report(.wrongType("'\(key)' needs \(expected), found \(describe(node))"), at: node.location)
        return nil
    }

    mutating func integer(_ node: FlowSyntaxNode, key: String, range: ClosedRange<Int>) -> Int? {
        guard let text = numberText(node, key: key, expected: "a whole number") else { return nil }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = Int(text) else {
            report(.invalidNumber(text, expected: "a whole number"), at: node.location)
            return nil
        }
        return inRange(value, range, key: key, text: text, at: node.location)
    }

    /// A plain decimal (`0.5`, `3`), no exponent, no unit.
    mutating func decimal(_ node: FlowSyntaxNode, key: String, range: Range<Double>) -> Double? {
        guard let text = numberText(node, key: key, expected: "a number") else { return nil }
        guard let value = Self.plainDecimal(text) else {
            report(.invalidNumber(text, expected: "a number such as 0.5"), at: node.location)
            return nil
        }
        guard range.contains(value) else {
            report(.outOfRange(key: key, value: text, accepted: "at least \(range.lowerBound) and below \(range.upperBound)"), at: node.location)
            return nil
        }
        return value
    }

    mutating func duration(_ node: FlowSyntaxNode, key: String, range: ClosedRange<TimeAmount>) -> TimeAmount? {
        guard let text = numberText(node, key: key, expected: "a duration such as 200ms") else { return nil }
        guard let value = DurationParser.parse(text) else {
            report(.invalidDuration(text), at: node.location)
            return nil
        }
        guard range.contains(value) else {
            let accepted = "from \(DurationParser.format(range.lowerBound)) to \(DurationParser.format(range.upperBound))"
            report(.outOfRange(key: key, value: text, accepted: accepted), at: node.location)
            return nil
        }
        return value
    }

    /// `COUNT/UNIT` (`100/s`) or `COUNT/DURATION` (`10/250ms`); count 1...10⁹, period 1ms...24h.
    mutating func rate(_ node: FlowSyntaxNode, key: String) -> FlowRate? {
        guard let text = numberText(node, key: key, expected: "a rate such as 100/s") else { return nil }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let count = Int(parts[0]),
              let period = DurationParser.parse(parts[1].allSatisfy(\.isLetter) ? "1" + parts[1] : String(parts[1])) else {
            report(.invalidRate(text), at: node.location)
            return nil
        }
        guard (1...1_000_000_000).contains(count) else {
            report(.outOfRange(key: key, value: text, accepted: "a count from 1 to 1000000000 per period"), at: node.location)
            return nil
        }
        guard (TimeAmount.milliseconds(1)...TimeAmount.hours(24)).contains(period) else {
            report(.outOfRange(key: key, value: text, accepted: "a period from 1ms to 24h"), at: node.location)
            return nil
        }
        return FlowRate(count: count, periodNanos: UInt64(period.nanoseconds))
    }

    /// `50%`, `12.5%` → 0.5, 0.125.
    mutating func percentage(_ node: FlowSyntaxNode, key: String) -> Double? {
        guard let text = numberText(node, key: key, expected: "a percentage such as 50%") else { return nil }
        guard text.hasSuffix("%"), let value = Self.plainDecimal(String(text.dropLast())), (0...100).contains(value) else {
            report(.invalidPercentage(text), at: node.location)
            return nil
        }
        return value / 100
    }

    /// An IPv4 address or CIDR as a bare number token, or any address or CIDR in a string.
    mutating func addressRange(_ node: FlowSyntaxNode) -> FlowCIDR? {
        switch node.kind {
        case .number(let text), .string(let text):
            guard let range = FlowCIDR(text) else {
                report(.invalidAddress(text), at: node.location)
                return nil
            }
            return range
        default:
            report(.wrongType("client_ip is an IP address; compare it with an address or CIDR such as 10.0.0.0/8, found \(describe(node))"),
                   at: node.location)
            return nil
        }
    }

    mutating func inRange(_ value: Int, _ range: ClosedRange<Int>, key: String, text: String, at location: SourceLocation) -> Int? {
        guard range.contains(value) else {
            report(.outOfRange(key: key, value: text, accepted: "from \(range.lowerBound) to \(range.upperBound)"), at: location)
            return nil
        }
        return value
    }

    /// Digits with at most one `.` between digits; anything else (exponents, signs, `inf`) is nil.
    static func plainDecimal(_ text: String) -> Double? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }) else { return nil }
        return Double(text)
    }
}
