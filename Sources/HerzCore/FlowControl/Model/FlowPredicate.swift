/// One test on one request attribute, as the checker compiled it: literals are already in the form
/// the comparison needs (host literals lower-cased, regexes compiled, CIDRs parsed), so evaluation
/// does no parsing and allocates nothing except inside the regex engine.
///
/// An absent attribute (a missing header, query parameter or metadata key) fails every predicate;
/// `a != b` is compiled as `!(a == b)` and is therefore true for an absent `a`.
public enum FlowPredicate: Sendable, Equatable {
    case equals(FlowAttribute, String)
    case oneOf(FlowAttribute, [String])
    case hasPrefix(FlowAttribute, String)
    case hasSuffix(FlowAttribute, String)
    case matches(FlowAttribute, FlowRegex)
    case exists(FlowAttribute)
    case clientIPIn([FlowCIDR])

    public func evaluate<R: FlowRequest>(_ request: R) -> Bool {
        switch self {
        case .clientIPIn(let ranges):
            guard let address = request.clientIP else { return false }
            return ranges.contains { $0.contains(address) }
        case .exists(let attribute):
            return attribute.text(in: request) != nil
        case .equals(let attribute, let literal):
            guard let value = attribute.text(in: request) else { return false }
            return FlowText.equals(value.utf8, literal.utf8, foldCase: attribute.isCaseInsensitive)
        case .oneOf(let attribute, let literals):
            guard let value = attribute.text(in: request) else { return false }
            return literals.contains { FlowText.equals(value.utf8, $0.utf8, foldCase: attribute.isCaseInsensitive) }
        case .hasPrefix(let attribute, let literal):
            guard let value = attribute.text(in: request) else { return false }
            return FlowText.hasPrefix(value.utf8, literal.utf8, foldCase: attribute.isCaseInsensitive)
        case .hasSuffix(let attribute, let literal):
            guard let value = attribute.text(in: request) else { return false }
            return FlowText.hasPrefix(value.utf8.reversed(), literal.utf8.reversed(), foldCase: attribute.isCaseInsensitive)
        case .matches(let attribute, let regex):
            guard let value = attribute.text(in: request) else { return false }
            return regex.compiled.wholeMatch(value)
        }
    }
}

/// A `.matches("…")` pattern compiled once at load. Uses ``CompiledRegex`` (NSRegularExpression,
/// whole-string match) — the engine routes already use, so one regex dialect runs everywhere in
/// Herz, its matcher is documented thread-safe for sharing across workers, and on Linux it is
/// markedly faster than the Swift `Regex` engine for the simple patterns rules use.
/// Equal when the patterns are equal.
public struct FlowRegex: Sendable, Equatable {
    public let pattern: String
    public let compiled: CompiledRegex

    public init(_ pattern: String, caseSensitive: Bool) throws(CompiledRegex.Error) {
        self.pattern = pattern
        do {
            self.compiled = try CompiledRegex(pattern, caseSensitive: caseSensitive)
        } catch let error as CompiledRegex.Error {
            throw error
        } catch {
            throw CompiledRegex.Error(pattern: pattern, reason: "does not compile")
        }
    }

    public static func == (lhs: FlowRegex, rhs: FlowRegex) -> Bool {
        lhs.pattern == rhs.pattern && lhs.compiled.caseSensitive == rhs.compiled.caseSensitive
    }
}

/// Byte-wise comparisons on UTF-8 (HTTP values are compared as sent, without Unicode
/// normalisation), with optional ASCII case folding for host names.
enum FlowText {
    static func equals<A: Sequence, B: Sequence>(_ value: A, _ literal: B, foldCase: Bool) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        foldCase ? value.elementsEqual(literal) { lower($0) == lower($1) } : value.elementsEqual(literal)
    }

    static func hasPrefix<A: Sequence, B: Sequence>(_ value: A, _ prefix: B, foldCase: Bool) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        foldCase ? value.starts(with: prefix) { lower($0) == lower($1) } : value.starts(with: prefix)
    }

    static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
