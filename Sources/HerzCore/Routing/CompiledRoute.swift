import NIOHTTP1

/// A ``RouteEntry`` with its match pre-compiled (``CompiledRouteMatch``). Immutable; shared by all
/// workers through ``RouteTable``.
struct CompiledRoute: Sendable {
    let entry: RouteEntry
    let match: CompiledRouteMatch

    init(_ entry: RouteEntry) throws {
        self.entry = entry
        self.match = try CompiledRouteMatch(entry.match)
    }

    /// `path` is the request path without query or fragment.
    func matches(path requestPath: Substring, head: HTTPRequestHead) -> Bool {
        match.matches(path: requestPath, head: head)
    }
}

/// A ``RouteMatch`` pre-compiled: path bytes lower-cased once for case-insensitive matches,
/// regexes compiled, methods parsed, header names lower-cased. Used by the route table and by
/// filters that match requests the same way (`jwt_authn` rules). Immutable; `Sendable`;
/// ``matches(path:head:)`` allocates nothing for prefix and exact paths.
struct CompiledRouteMatch: Sendable {
    enum PathMatcher: Sendable {
        case prefix([UInt8])
        case exact([UInt8])
        case regex(CompiledRegex)
    }

    struct HeaderCondition: Sendable {
        enum Kind: Sendable {
            case exact(String)
            case present
            case regex(CompiledRegex)
        }
        /// Lower case.
        var name: String
        var kind: Kind
        var invert: Bool
    }

    let path: PathMatcher
    let caseSensitive: Bool
    let headers: [HeaderCondition]
    let methods: [HTTPMethod]

    /// Throws ``RouteTableError/invalidRegex(pattern:reason:)`` for a regex that does not compile.
    init(_ match: RouteMatch) throws {
        caseSensitive = match.caseSensitive
        func bytes(_ text: String) -> [UInt8] { Array((match.caseSensitive ? text : text.lowercased()).utf8) }
        switch match.path {
        case .prefix(let prefix): path = .prefix(bytes(prefix))
        case .exact(let exact): path = .exact(bytes(exact))
        case .regex(let pattern): path = .regex(try Self.compile(pattern, caseSensitive: match.caseSensitive))
        }
        headers = try match.headers.map { matcher in
            let kind: HeaderCondition.Kind
            switch matcher.kind {
            case .exact(let value): kind = .exact(value)
            case .present: kind = .present
            case .regex(let pattern): kind = .regex(try Self.compile(pattern, caseSensitive: true))
            }
            return HeaderCondition(name: matcher.name.lowercased(), kind: kind, invert: matcher.invert)
        }
        methods = match.methods.map { HTTPMethod(rawValue: $0.uppercased()) }
    }

    private static func compile(_ pattern: String, caseSensitive: Bool) throws -> CompiledRegex {
        do { return try CompiledRegex(pattern, caseSensitive: caseSensitive) } catch let error as CompiledRegex.Error {
            throw RouteTableError.invalidRegex(pattern: pattern, reason: error.reason)
        }
    }

    /// `path` is the request path without query or fragment.
    func matches(path requestPath: Substring, head: HTTPRequestHead) -> Bool {
        if !methods.isEmpty, !methods.contains(head.method) { return false }
        let utf8 = requestPath.utf8
        switch path {
        case .prefix(let prefix):
            guard utf8.count >= prefix.count else { return false }
            if caseSensitive {
                if !utf8.starts(with: prefix) { return false }
            } else if !utf8.prefix(prefix.count).elementsEqual(prefix, by: { ASCII.lower($0) == $1 }) {
                return false
            }
        case .exact(let exact):
            guard utf8.count == exact.count else { return false }
            if caseSensitive {
                if !utf8.elementsEqual(exact) { return false }
            } else if !utf8.elementsEqual(exact, by: { ASCII.lower($0) == $1 }) {
                return false
            }
        case .regex(let regex):
            if !regex.wholeMatch(requestPath) { return false }
        }
        for condition in headers where !condition.holds(in: head.headers) { return false }
        return true
    }
}

extension CompiledRouteMatch.HeaderCondition {
    /// The condition holds when any value of the header satisfies it (XOR `invert`).
    func holds(in headers: HTTPHeaders) -> Bool {
        var satisfied = false
        for (headerName, value) in headers where ASCII.equalsLowercased(headerName, name) {
            switch kind {
            case .present: satisfied = true
            case .exact(let expected): satisfied = value == expected
            case .regex(let regex): satisfied = regex.wholeMatch(value)
            }
            if satisfied { break }
        }
        return satisfied != invert
    }
}

/// ASCII helpers that work on bytes, so matching allocates nothing.
enum ASCII {
    @inline(__always) static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// Case-insensitive equality against an already lower-case `lowercased`.
    static func equalsLowercased(_ text: String, _ lowercased: String) -> Bool {
        text.utf8.count == lowercased.utf8.count && text.utf8.elementsEqual(lowercased.utf8) { lower($0) == $1 }
    }
}

/// The path part of a request target without query or fragment: origin-form `/a/b?x` → `/a/b`,
/// absolute-form `http://h/a?x` → `/a`, anything else as is.
func requestPath(of uri: String) -> Substring {
    // Byte scans (on the per-request path): `?`, `#` and `/` are ASCII, so their UTF-8 indices are
    // valid String indices.
    let bytes = uri.utf8
    var start = bytes.startIndex
    if bytes.first != UInt8(ascii: "/"), let scheme = uri.range(of: "://") {
        start = bytes[scheme.upperBound...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
        if start == bytes.endIndex { return "/" }
    }
    let end = bytes[start...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.endIndex
    return uri[start..<end]
}
