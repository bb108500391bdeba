/// Rewrites chosen cookie values inside `cookie` (`a=1; b=2`) and `set-cookie` (`a=1; Path=/; Secure`)
/// field values, leaving everything else as it was.
///
/// Guarantees: `transform` sees the value of every cookie pair whose name is listed (surrounding
/// double quotes removed) and returns its replacement; pairs and attributes it does not touch keep
/// their exact text; a field with no listed cookie comes back unchanged. Stateless.
enum CookieRewriter {
    typealias Transform = (_ name: String, _ value: String) throws -> String

    /// A `cookie` field value: every `name=value` pair is a candidate.
    static func rewriteCookie(_ field: String, names: Set<String>, _ transform: Transform) throws -> String {
        var changed = false
        let pairs = try field.split(separator: ";", omittingEmptySubsequences: false).map { piece -> String in
            guard let rewritten = try rewrite(pair: piece.trimmingOWS(), names: names, transform) else { return String(piece) }
            changed = true
            return rewritten
        }
        guard changed else { return field }
        return pairs.map { $0.trimmingOWS() }.joined(separator: "; ")
    }

    /// A `set-cookie` field value: only the leading pair is a cookie; attributes stay as they are.
    static func rewriteSetCookie(_ field: String, names: Set<String>, _ transform: Transform) throws -> String {
        let end = field.firstIndex(of: ";") ?? field.endIndex
        guard let rewritten = try rewrite(pair: field[..<end].trimmingOWS(), names: names, transform) else { return field }
        return rewritten + field[end...]
    }

    /// `name=transformed` when `pair`'s name is listed, else nil.
    private static func rewrite(pair: Substring, names: Set<String>, _ transform: Transform) throws -> String? {
        guard let equals = pair.firstIndex(of: "=") else { return nil }
        let name = String(pair[..<equals].trimmingOWS())
        guard names.contains(name) else { return nil }
        var value = pair[pair.index(after: equals)...].trimmingOWS()
        if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
        return "\(name)=\(try transform(name, String(value)))"
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's optional white space).
    func trimmingOWS() -> SubSequence {
        let isContent = { (character: Character) in character != " " && character != "\t" }
        guard let first = firstIndex(where: isContent), let last = lastIndex(where: isContent) else { return self[endIndex...] }
        return self[first...last]
    }
}
