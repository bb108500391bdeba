/// Picks the virtual host for a request's `Host` / `:authority`, in Envoy's order: exact name,
/// then the longest matching `*suffix`, then the longest matching `prefix*`, then `*`.
///
/// Built once per config and read concurrently by every worker; `select` allocates nothing for
/// lower-case hosts (the usual case).
struct VirtualHostSelector: Sendable {
    private var exact: [Substring: Int] = [:]
    /// Longest first; ties keep config order.
    private var suffixes: [(pattern: String, host: Int)] = []
    private var prefixes: [(pattern: String, host: Int)] = []
    private var any: Int?
    private var anyPatternHasPort = false

    /// `domains[i]` are the patterns of virtual host `i`. Returns the first duplicate pattern, if any.
    init(domains: [[DomainPattern]]) throws {
        var seen = Set<DomainPattern>()
        for (host, patterns) in domains.enumerated() {
            for pattern in patterns {
                guard seen.insert(pattern).inserted else { throw RouteTableError.duplicateDomain("\(pattern)") }
                anyPatternHasPort = anyPatternHasPort || pattern.hasPort
                switch pattern {
                case .exact(let name): exact[Substring(name)] = host
                case .suffix(let suffix): suffixes.append((suffix, host))
                case .prefix(let prefix): prefixes.append((prefix, host))
                case .any: any = host
                }
            }
        }
        // Stable sort by length, longest first.
        suffixes = suffixes.enumerated().sorted { ($0.element.pattern.utf8.count, -$0.offset) > ($1.element.pattern.utf8.count, -$1.offset) }.map(\.element)
        prefixes = prefixes.enumerated().sorted { ($0.element.pattern.utf8.count, -$0.offset) > ($1.element.pattern.utf8.count, -$1.offset) }.map(\.element)
    }

    /// The index of the virtual host for `authority` (`nil` → no virtual host, 404).
    func select(authority: String) -> Int? {
        let lowered = Self.hasUpperCase(authority) ? authority.lowercased() : authority
        let full = Substring(lowered)
        let host = Self.stripPort(full)
        if anyPatternHasPort, host.utf8.count != full.utf8.count, let found = lookup(full, allowAny: false) {
            return found
        }
        return lookup(host, allowAny: true)
    }

    private func lookup(_ host: Substring, allowAny: Bool) -> Int? {
        if let found = exact[host] { return found }
        let hostBytes = host.utf8
        for (pattern, index) in suffixes where hostBytes.count > pattern.utf8.count {
            if hostBytes.reversed().starts(with: pattern.utf8.reversed()) { return index }
        }
        for (pattern, index) in prefixes where hostBytes.count > pattern.utf8.count {
            if hostBytes.starts(with: pattern.utf8) { return index }
        }
        return allowAny ? any : nil
    }

    /// `host:port` → `host`, `[v6]:port` → `[v6]`; a bare IPv6 literal is left alone.
    static func stripPort(_ authority: Substring) -> Substring {
        let bytes = authority.utf8
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")) else { return authority }
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.lastIndex(of: UInt8(ascii: "]")), bytes.index(after: close) == colon else { return authority }
            return authority[..<colon]
        }
        if bytes[..<colon].contains(UInt8(ascii: ":")) { return authority }   // unbracketed IPv6
        return authority[..<colon]
    }

    private static func hasUpperCase(_ text: String) -> Bool {
        text.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }
}
