/// One `domains:` entry of a virtual host, normalized to lower case. Envoy's forms: an exact name
/// (`api.example.com`, optionally with `:port`), a suffix wildcard (`*.example.com`,
/// `*-bar.example.com`), a prefix wildcard (`api.*`), or `*` for everything.
public enum DomainPattern: Sendable, Hashable {
    case exact(String)
    /// The text after the leading `*`; the host must be strictly longer than it.
    case suffix(String)
    /// The text before the trailing `*`; the host must be strictly longer than it.
    case prefix(String)
    case any

    /// Parses a pattern; `nil` when ``problem(with:)`` reports one.
    public init?(_ text: String) {
        guard Self.problem(with: text) == nil else { return nil }
        let lower = text.lowercased()
        if lower == "*" { self = .any }
        else if lower.hasPrefix("*") { self = .suffix(String(lower.dropFirst())) }
        else if lower.hasSuffix("*") { self = .prefix(String(lower.dropLast())) }
        else { self = .exact(lower) }
    }

    /// Why `text` is not a usable domain pattern, or `nil` if it is.
    public static func problem(with text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text == "*" { return nil }
        let stars = text.filter { $0 == "*" }.count
        if stars > 1 || (stars == 1 && !text.hasPrefix("*") && !text.hasSuffix("*")) {
            return "a wildcard '*' may only be the first or the last character, once"
        }
        let allowed = text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._:[]*".contains($0)) }
        return allowed ? nil : "contains characters not allowed in a host name"
    }

    /// `true` when the pattern names a port (`host:8080`), so hosts are first matched with theirs.
    var hasPort: Bool {
        switch self {
        case .exact(let text), .suffix(let text), .prefix(let text):
            if text.hasPrefix("[") { return text.contains("]:") }
            return text.contains(":")
        case .any: return false
        }
    }
}
