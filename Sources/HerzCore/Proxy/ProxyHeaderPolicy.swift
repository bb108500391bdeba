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
        // One pass finds what to remove. Nothing is allocated unless `Connection` lists header
        // names (responses usually carry `connection: keep-alive`: one removal, no list).
        var present = 0  // bit i: hopByHopNames[i] is present
        var listed: [String] = []
        var keepTrailers = false
        for (name, value) in headers {
            guard let bit = hopByHopBit(name) else { continue }
            present |= 1 << bit
            if bit == connectionBit {
                forEachListElement(value) { token in
                    if !token.isEmpty && !equalsLowercase(token, "close") && !equalsLowercase(token, "keep-alive") {
                        listed.append(token.lowercased())
                    }
                }
            } else if bit == teBit {
                forEachListElement(value) { token in keepTrailers = keepTrailers || equalsLowercase(token, "trailers") }
            }
        }
        guard present != 0 else { return }
        for (bit, name) in hopByHopNames.enumerated() where present & (1 << bit) != 0 { headers.remove(name: name) }
        for name in listed { headers.remove(name: name) }
        if keepTrailers { headers.add(name: "te", value: "trailers") }
    }

    /// Calls `body` with each element of a comma-separated header value, trimmed (RFC 9110 §5.6.1),
    /// without allocating.
    static func forEachListElement(_ value: String, _ body: (Substring) -> Void) {
        var rest = value[...]
        while !rest.isEmpty {
            let comma = rest.utf8.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
            body(rest[..<comma].trimmingASCIISpaces())
            rest = comma == rest.endIndex ? rest[rest.endIndex...] : rest[rest.utf8.index(after: comma)...]
        }
    }

    /// ``hopByHop`` plus `te`; the index of each is its bit in ``stripHopByHop(_:)``.
    static let hopByHopNames = hopByHop + ["te"]
    static let connectionBit = 0
    static let teBit = 8

    /// The position of `name` (any case) in ``hopByHopNames``, if it is one; no allocation.
    static func hopByHopBit(_ name: String) -> Int? {
        switch name.utf8.count {
        case 2: return equalsLowercase(name, "te") ? teBit : nil
        case 7: return equalsLowercase(name, "upgrade") ? 4 : equalsLowercase(name, "trailer") ? 7 : nil
        case 10: return equalsLowercase(name, "connection") ? connectionBit : equalsLowercase(name, "keep-alive") ? 1 : nil
        case 16: return equalsLowercase(name, "proxy-connection") ? 2 : nil
        case 17: return equalsLowercase(name, "transfer-encoding") ? 3 : nil
        case 18: return equalsLowercase(name, "proxy-authenticate") ? 5 : nil
        case 19: return equalsLowercase(name, "proxy-authorization") ? 6 : nil
        default: return nil
        }
    }

    /// Prepares a downstream request's headers for the upstream: strips hop-by-hop headers, appends
    /// the client to `x-forwarded-for`, sets `x-forwarded-proto`, appends to `via`, and makes sure
    /// `x-request-id` is present (returns the id used).
    @discardableResult
    public static func prepareUpstreamRequest(_ headers: inout HTTPHeaders, clientAddress: String?, scheme: String,
                                              requestID: String) -> String {
        // The headers usually share their storage with the decoder's copy: make the one copy here,
        // with room for what is appended, instead of a copy on the first edit and a reallocation
        // on each later growth (3–4 allocations per request otherwise).
        headers.reserveCapacity(headers.count + addedRequestHeaders)
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
        // One copy with room for `via` (and a `connection: close` the proxy may add later), as in
        // ``prepareUpstreamRequest(_:clientAddress:scheme:requestID:)``.
        headers.reserveCapacity(headers.count + 2)
        stripHopByHop(&headers)
        appendVia(&headers)
    }

    /// Headers ``prepareUpstreamRequest(_:clientAddress:scheme:requestID:)`` may add:
    /// `x-forwarded-for`, `x-forwarded-proto`, `via`, `x-request-id`.
    static let addedRequestHeaders = 4

    static func appendVia(_ headers: inout HTTPHeaders) {
        if let via = headers.first(name: "via") {
            headers.replaceOrAdd(name: "via", value: via + ", " + viaToken)
        } else {
            headers.add(name: "via", value: viaToken)
        }
    }

    /// Applies configured header edits: removals first, then additions (`append: false` replaces).
    public static func apply(_ mutations: HeaderMutations, to headers: inout HTTPHeaders) {
        headers.reserveCapacity(headers.count + mutations.add.count + addedRequestHeaders)
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
