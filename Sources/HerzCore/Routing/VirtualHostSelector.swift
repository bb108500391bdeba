/// Picks the virtual host for a request's `Host` / `:authority`, in Envoy's order: exact name,
/// then the longest matching `*suffix`, then the longest matching `prefix*`, then `*`.
///
/// Patterns that name a port (`api.example.com:8443`) only match an authority with that port;
/// all other patterns match the host with its port stripped.
///
/// Built once per config and read concurrently by every worker; `select` allocates nothing for
/// lower-case hosts (the usual case).
struct VirtualHostSelector: Sendable {
    /// Patterns with a port, tried first against the full authority (never `*`).
    private let withPort: DomainTable
    private let withoutPort: DomainTable

    /// `domains[i]` are the patterns of virtual host `i`. Throws on a pattern used twice.
    init(domains: [[DomainPattern]]) throws {
        var seen = Set<DomainPattern>()
        var withPort = DomainTable(), withoutPort = DomainTable()
        for (host, patterns) in domains.enumerated() {
            for pattern in patterns {
                guard seen.insert(pattern).inserted else { throw RouteTableError.duplicateDomain("\(pattern)") }
                if pattern.hasPort { withPort.add(pattern, host: host) } else { withoutPort.add(pattern, host: host) }
            }
        }
        withPort.sort()
        withoutPort.sort()
        self.withPort = withPort
        self.withoutPort = withoutPort
    }

    /// The index of the virtual host for `authority` (`nil` → no virtual host, 404).
    func select(authority: String) -> Int? {
        let lowered = Self.hasUpperCase(authority) ? authority.lowercased() : authority
        let full = Substring(lowered)
        let host = Self.stripPort(full)
        if !withPort.isEmpty, host.utf8.count != full.utf8.count, let found = withPort.lookup(full) {
            return found
        }
        return withoutPort.lookup(host)
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

/// One precedence-ordered set of domain patterns.
private struct DomainTable: Sendable {
    var exact: [Substring: Int] = [:]
    /// Longest first; ties keep config order.
    var suffixes: [(pattern: String, host: Int)] = []
    var prefixes: [(pattern: String, host: Int)] = []
    var any: Int?

    var isEmpty: Bool { exact.isEmpty && suffixes.isEmpty && prefixes.isEmpty && any == nil }

    mutating func add(_ pattern: DomainPattern, host: Int) {
        switch pattern {
        case .exact(let name): exact[Substring(name)] = host
        case .suffix(let suffix): suffixes.append((suffix, host))
        case .prefix(let prefix): prefixes.append((prefix, host))
        case .any: any = host
        }
    }

    mutating func sort() {
        func longestFirst(_ items: [(pattern: String, host: Int)]) -> [(pattern: String, host: Int)] {
            items.enumerated().sorted { a, b in
                let (la, lb) = (a.element.pattern.utf8.count, b.element.pattern.utf8.count)
                return la != lb ? la > lb : a.offset < b.offset
            }.map(\.element)
        }
        suffixes = longestFirst(suffixes)
        prefixes = longestFirst(prefixes)
    }

    func lookup(_ host: Substring) -> Int? {
        if let found = exact[host] { return found }
        let bytes = host.utf8
        for (pattern, index) in suffixes where bytes.count > pattern.utf8.count {
            if bytes.reversed().starts(with: pattern.utf8.reversed()) { return index }
        }
        for (pattern, index) in prefixes where bytes.count > pattern.utf8.count {
            if bytes.starts(with: pattern.utf8) { return index }
        }
        return any
    }
}
