import NIOHTTP1

/// The compiled `router` config of one listener: picks a virtual host by authority, then the
/// first route whose match holds.
///
/// Immutable and `Sendable`: built once per config snapshot (off the event loops) and read by all
/// workers without locks. `match` is on the per-request path and allocates nothing in the usual
/// case (lower-case host, no regex routes).
public struct RouteTable: Sendable {
    struct VirtualHost: Sendable {
        var name: String
        var routes: [CompiledRoute]
    }

    let virtualHosts: [VirtualHost]
    let selector: VirtualHostSelector

    /// Throws ``RouteTableError`` for a regex that does not compile or a bad/duplicate domain.
    public init(router: RouterConfig) throws {
        virtualHosts = try router.virtualHosts.map { host in
            VirtualHost(name: host.name, routes: try host.routes.map(CompiledRoute.init))
        }
        selector = try VirtualHostSelector(domains: router.virtualHosts.map { host in
            try host.domains.map { domain in
                guard let pattern = DomainPattern(domain) else {
                    throw RouteTableError.invalidDomain(domain, reason: DomainPattern.problem(with: domain) ?? "invalid")
                }
                return pattern
            }
        })
    }

    /// The route for a request, or `nil` (→ 404) when no virtual host or no route matches.
    ///
    /// - Parameter authority: `:authority` (HTTP/2, HTTP/3) or `nil` to use the `Host` header.
    ///   Matched case-insensitively; the port is ignored unless a domain pattern names one.
    public func match(authority: String?, head: HTTPRequestHead) -> RouteMatchResult? {
        guard let hostIndex = virtualHostIndex(authority: authority ?? head.headers.first(name: "host") ?? "") else { return nil }
        let host = virtualHosts[hostIndex]
        let path = requestPath(of: head.uri)
        for (routeIndex, route) in host.routes.enumerated() where route.matches(path: path, head: head) {
            return RouteMatchResult(virtualHost: host.name, route: route.entry, virtualHostIndex: hostIndex, routeIndex: routeIndex)
        }
        return nil
    }

    /// The index of the virtual host `authority` selects, if any.
    public func virtualHostIndex(authority: String) -> Int? {
        selector.select(authority: authority)
    }
}

/// The outcome of ``RouteTable/match(authority:head:)``.
public struct RouteMatchResult: Sendable, Equatable {
    /// The matched virtual host's name.
    public let virtualHost: String
    public let route: RouteEntry
    /// Positions in the ``RouterConfig``, for per-route state kept in arrays (rate limiters, stats).
    public let virtualHostIndex: Int
    public let routeIndex: Int

    public init(virtualHost: String, route: RouteEntry, virtualHostIndex: Int, routeIndex: Int) {
        self.virtualHost = virtualHost; self.route = route
        self.virtualHostIndex = virtualHostIndex; self.routeIndex = routeIndex
    }
}
