import NIOHTTP1

/// Applies a matched route's `prefix_rewrite` and `host_rewrite` to the request head before it
/// goes upstream.
///
/// - `prefix_rewrite` on a `prefix` match replaces the matched prefix (`/api` + rewrite `/v2` turns
///   `/api/users?x=1` into `/v2/users?x=1`); on a `path` match it replaces the whole path. The query
///   string and fragment are kept. A path that does not start with the route's prefix is left alone.
/// - `host_rewrite` replaces the `Host` header (HTTP/2 adapters map it to `:authority`).
public func applyRewrites(for route: RouteEntry, to head: inout HTTPRequestHead) {
    if let rewrite = route.prefixRewrite {
        let path = requestPath(of: head.uri)
        let replaced: Substring.UTF8View.Index?
        switch route.match.path {
        case .prefix(let prefix):
            let matches = route.match.caseSensitive
                ? path.utf8.starts(with: prefix.utf8)
                : path.utf8.count >= prefix.utf8.count && path.utf8.prefix(prefix.utf8.count).elementsEqual(prefix.utf8) { ASCII.lower($0) == ASCII.lower($1) }
            replaced = matches ? path.utf8.index(path.utf8.startIndex, offsetBy: prefix.utf8.count) : nil
        case .exact:
            replaced = path.utf8.endIndex
        case .regex:
            replaced = nil
        }
        if let replaced {
            let uri = head.uri
            head.uri = String(uri[..<path.startIndex]) + rewrite + String(uri[replaced...])
        }
    }
    if let host = route.hostRewrite {
        head.headers.replaceOrAdd(name: "host", value: host)
    }
}
