/// Where the admin API listens, parsed from a URL such as `http://127.0.0.1:9901` or
/// `http://[::1]:9901/herz`.
///
/// Pure value; only plain `http` is supported (the admin API never speaks TLS).
struct AdminEndpoint: Equatable {
    var host: String
    var port: Int
    /// Path prefix prepended to every request path, without a trailing slash ("" for none).
    var basePath: String
    /// The URL as the user gave it, for messages.
    var url: String

    init(parsing url: String) throws {
        self.url = url
        guard url.hasPrefix("http://") else {
            throw AdminClientError.invalidURL(url, reason: "only http:// URLs are supported")
        }
        var rest = Substring(url.dropFirst("http://".count))
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[slash...]
            rest = rest[..<slash]
        }
        var hostPart = rest
        var portPart: Substring? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw AdminClientError.invalidURL(url, reason: "unterminated IPv6 address")
            }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw AdminClientError.invalidURL(url, reason: "missing host") }
        self.host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else {
                throw AdminClientError.invalidURL(url, reason: "bad port '\(portPart)'")
            }
            self.port = port
        } else {
            self.port = 80
        }
        while path.hasSuffix("/") { path = path.dropLast() }
        self.basePath = String(path)
    }

    /// The `Host` header value.
    var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? h : "\(h):\(port)"
    }
}
