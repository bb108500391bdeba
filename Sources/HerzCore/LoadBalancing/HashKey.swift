import NIOHTTP1

/// The request's hash key for `ring_hash` / `maglev` clusters: the first of the route's
/// `hash_policy` entries whose input is present wins; nil when none is (the balancer then picks at
/// random, as Envoy does).
///
/// - `header(name)`: the first value of that header (names case-insensitive).
/// - `cookie(name)`: the value of the first cookie of that name in any `Cookie` header.
/// - `sourceIP`: `clientIP` (the downstream address without port), when known.
///
/// The input bytes are hashed with ``XXHash64`` (seed 0): the same request gets the same key on every
/// worker, after every restart and on every kernel. Pure; safe from any thread.
public func computeHashKey(policies: [HashPolicy], headers: HTTPHeaders, clientIP: String?) -> UInt64? {
    for policy in policies {
        switch policy {
        case .header(let name):
            if let value = headers.first(name: name) { return XXHash64.hash(value) }
        case .cookie(let name):
            if let value = cookieValue(named: name, in: headers) { return XXHash64.hash(value) }
        case .sourceIP:
            if let ip = clientIP, !ip.isEmpty { return XXHash64.hash(ip) }
        }
    }
    return nil
}

/// The value of cookie `name` in the request's `Cookie` headers (`a=1; b=2`), nil if absent.
/// Surrounding whitespace and one pair of double quotes around the value are dropped.
func cookieValue(named name: String, in headers: HTTPHeaders) -> Substring? {
    for header in headers["cookie"] {
        for pair in header.split(separator: ";") {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            let key = pair[pair.startIndex..<eq].trimmingSpaces
            guard key == name else { continue }
            var value = pair[pair.index(after: eq)...].trimmingSpaces
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = value.dropFirst().dropLast()
            }
            return value
        }
    }
    return nil
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
