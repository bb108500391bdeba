import NIOHTTP1

/// The header rules every proxied exchange follows (RFC 9110 §7.6, Envoy's defaults).
///
/// Pure functions over NIO's `HTTPHeaders`, so the same rules serve HTTP/1.1 and HTTP/2 and are
/// tested without sockets.
public enum ProxyHeaderPolicy {
    /// Hop-by-hop headers that never cross the proxy (plus any header the `Connection` header names).
    /// `te` is kept only as `te: trailers` (gRPC needs it end to end).
    public static let hopByHop: [String] = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization", "trailer",
    ]

    /// Whether `name` (any case) is `te`, `connection` or one of ``hopByHop``; no allocation.
    static func isHopByHopName(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: return equalsLowercase(name, "te")
        case 7: return equalsLowercase(name, "upgrade") || equalsLowercase(name, "trailer")
        case 10: return equalsLowercase(name, "connection") || equalsLowercase(name, "keep-alive")
        case 16: return equalsLowercase(name, "proxy-connection")
        case 17: return equalsLowercase(name, "transfer-encoding")
        case 18: return equalsLowercase(name, "proxy-authenticate")
        case 19: return equalsLowercase(name, "proxy-authorization")
        default: return false
        }
    }

    /// ASCII case-insensitive comparison against a lowercase literal of letters and `-`.
    @inlinable @inline(__always)
    public static func equalsLowercase<S: StringProtocol>(_ name: S, _ lower: StaticString) -> Bool {
        let count = lower.utf8CodeUnitCount
        guard name.utf8.count == count else { return false }
        return lower.withUTF8Buffer { expected in
            name.utf8.elementsEqual(expected) { ($0 | 0x20) == $1 }
        }
    }

    /// The `Via` token Herz appends.
    public static let viaToken = "1.1 herz"

    /// Removes hop-by-hop headers in place: the fixed list, `te` unless it is exactly `trailers`,
    /// and every header listed in `Connection`.
    public static func stripHopByHop(_ headers: inout HTTPHeaders) {
        // One pass finds what to remove; nothing is allocated unless a hop-by-hop header is present
        // (responses usually carry `connection: keep-alive`: one removal, no token list).
        var found: [String] = []
        var listed: [String] = []
        var keepTrailers = false
        for (name, value) in headers where isHopByHopName(name) {
            found.append(name)
            if equalsLowercase(name, "connection") {
                for token in value.split(separator: ",") {
                    let trimmed = token.trimmingASCIISpaces()
                    if !trimmed.isEmpty && !equalsLowercase(trimmed, "close") && !equalsLowercase(trimmed, "keep-alive") {
                        listed.append(trimmed.lowercased())
                    }
                }
            } else if equalsLowercase(name, "te") {
                keepTrailers = keepTrailers || value.split(separator: ",").contains { equalsLowercase($0.trimmingASCIISpaces(), "trailers") }
            }
        }
        guard !found.isEmpty else { return }
        for name in found { headers.remove(name: name) }
        for name in listed { headers.remove(name: name) }
        if keepTrailers { headers.add(name: "te", value: "trailers") }
    }

    /// Prepares a downstream request's headers for the upstream: strips hop-by-hop headers, appends
    /// the client to `x-forwarded-for`, sets `x-forwarded-proto`, appends to `via`, and makes sure
    /// `x-request-id` is present (returns the id used).
    @discardableResult
    public static func prepareUpstreamRequest(_ headers: inout HTTPHeaders, clientAddress: String?, scheme: String,
                                              requestID: String) -> String {
        stripHopByHop(&headers)
        headers.remove(name: "expect")  // Herz answers 100-continue itself
        if let client = clientAddress {
            if let existing = headers.first(name: "x-forwarded-for") {
                headers.replaceOrAdd(name: "x-forwarded-for", value: existing + ", " + client)
            } else {
                headers.add(name: "x-forwarded-for", value: client)
            }
        }
        headers.replaceOrAdd(name: "x-forwarded-proto", value: scheme)
        appendVia(&headers)
        if let id = headers.first(name: "x-request-id"), !id.isEmpty { return id }
        headers.replaceOrAdd(name: "x-request-id", value: requestID)
        return requestID
    }

    /// Prepares an upstream response's headers for the downstream: strips hop-by-hop headers and
    /// appends to `via`.
    public static func prepareDownstreamResponse(_ headers: inout HTTPHeaders) {
        stripHopByHop(&headers)
        appendVia(&headers)
    }

    static func appendVia(_ headers: inout HTTPHeaders) {
        if let via = headers.first(name: "via") {
            headers.replaceOrAdd(name: "via", value: via + ", " + viaToken)
        } else {
            headers.add(name: "via", value: viaToken)
        }
    }

    /// Applies configured header edits: removals first, then additions (`append: false` replaces).
    public static func apply(_ mutations: HeaderMutations, to headers: inout HTTPHeaders) {
        for name in mutations.remove { headers.remove(name: name) }
        for option in mutations.add {
            if option.append { headers.add(name: option.name, value: option.value) }
            else { headers.replaceOrAdd(name: option.name, value: option.value) }
        }
    }
}

extension Substring {
    /// Drops leading and trailing ASCII spaces and tabs (header list elements, RFC 9110 §5.6.1).
    func trimmingASCIISpaces() -> Substring {
        var result = self[...]
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
