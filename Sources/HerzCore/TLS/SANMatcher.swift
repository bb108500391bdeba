/// Matches names against patterns as Herz uses them for SNI certificate selection and for
/// `allowed_sans`: exact (ASCII case-insensitive for DNS names), or a leading `*.` wildcard that
/// stands for exactly one DNS label (`*.example.com` matches `a.example.com`, not `example.com`
/// nor `a.b.example.com`), as RFC 6125 §6.4.3 allows. URI SANs (`spiffe://…`) match exactly.
public enum SANMatcher {
    public static func matches(_ name: String, pattern: String) -> Bool {
        if pattern.contains("://") { return name == pattern }
        let name = name.lowercased(), pattern = pattern.lowercased()
        guard pattern.hasPrefix("*.") else { return name == pattern }
        let suffix = String(pattern.dropFirst(1))   // ".example.com"
        guard name.hasSuffix(suffix) else { return false }
        let label = name.dropLast(suffix.count)
        return !label.isEmpty && !label.contains(".")
    }

    /// True when any of `names` matches any of `patterns`.
    public static func anyMatches(_ names: [String], patterns: [String]) -> Bool {
        names.contains { name in patterns.contains { matches(name, pattern: $0) } }
    }
}
