/// A request attribute a rule can test or key a limit by. Header names are stored lower-cased;
/// `host` compares ASCII case-insensitively; everything else compares byte for byte.
public enum FlowAttribute: Hashable, Sendable, CustomStringConvertible {
    case method, path, host, clientIP
    case header(String)
    case query(String)
    case metadata(String)

    /// The plain names an expression may use (indexed attributes are listed in their `[…]` form).
    static let knownNames = ["method", "path", "host", "client_ip", "header", "query", "metadata", "true", "false"]

    /// How the DSL spells it (also the canonical text of a limit key).
    public var description: String {
        switch self {
        case .method: return "method"
        case .path: return "path"
        case .host: return "host"
        case .clientIP: return "client_ip"
        case .header(let name): return "header[\"\(name)\"]"
        case .query(let name): return "query[\"\(name)\"]"
        case .metadata(let key): return "metadata[\"\(key)\"]"
        }
    }

    /// `header`, `query` and `metadata` may be absent from a request; the others are always there
    /// (`client_ip` is absent only when the adapter cannot tell, e.g. a Unix socket listener).
    public var mayBeAbsent: Bool {
        switch self {
        case .header, .query, .metadata: return true
        case .method, .path, .host, .clientIP: return false
        }
    }

    var isCaseInsensitive: Bool { self == .host }

    /// The attribute's text in `request`; nil when absent. `client_ip` is rendered as text (for keys).
    public func text<R: FlowRequest>(in request: R) -> Substring? {
        switch self {
        case .method: return request.method
        case .path: return request.path
        case .host: return request.host
        case .clientIP: return request.clientIP.map { Substring($0.description) }
        case .header(let name): return request.header(name)
        case .query(let name): return request.queryParameter(name)
        case .metadata(let key): return request.metadata(key)
        }
    }
}
