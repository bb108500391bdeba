/// What a flow rule may look at in a request. The kernel's `flow_control` filter adapts its
/// request (NIO headers, connection address, metadata from earlier filters) to this; rule
/// evaluation is generic over it, so an adapter that hands out slices of what it already holds
/// costs no allocation per lookup.
///
/// Contract for implementers: `path` is the path without the query string; `host` is the
/// authority without the port; `header` gets a lower-cased name and returns the first value of
/// that header; `queryParameter` returns the first value of that parameter, percent-decoded;
/// `metadata` returns what earlier filters stored under that key (`jwt.sub`).
public protocol FlowRequest {
    var method: Substring { get }
    var path: Substring { get }
    var host: Substring { get }
    var clientIP: FlowIPAddress? { get }
    func header(_ lowercasedName: String) -> Substring?
    func queryParameter(_ name: String) -> Substring?
    func metadata(_ key: String) -> Substring?
}

/// A plain ``FlowRequest`` built from values: for tests, tools (`herz-kernel --check` dry runs)
/// and adapters with nothing better at hand. The query string of `target` is parsed once here.
public struct FlowRequestValues: FlowRequest, Sendable {
    public var method: Substring
    public var path: Substring
    public var host: Substring
    public var clientIP: FlowIPAddress?
    /// Lower-cased names; the first value counts.
    public var headers: [String: String]
    public var query: [String: String]
    public var metadataValues: [String: String]

    /// `target` is the request target (`/orders?id=7`); `host` may carry a port, which is dropped.
    public init(method: String = "GET", target: String = "/", host: String = "", clientIP: String? = nil,
                headers: [(String, String)] = [], metadata: [String: String] = [:]) {
        let split = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.method = Substring(method)
        self.path = split.first ?? ""
        self.host = Self.stripPort(host)
        self.clientIP = clientIP.flatMap { FlowIPAddress($0) }
        var headerMap: [String: String] = [:]
        for (name, value) in headers where headerMap[name.lowercased()] == nil { headerMap[name.lowercased()] = value }
        self.headers = headerMap
        self.query = split.count > 1 ? FlowQueryString.parameters(split[1]) : [:]
        self.metadataValues = metadata
    }

    public func header(_ lowercasedName: String) -> Substring? { headers[lowercasedName].map { Substring($0) } }

    public func queryParameter(_ name: String) -> Substring? { query[name].map { Substring($0) } }

    public func metadata(_ key: String) -> Substring? { metadataValues[key].map { Substring($0) } }

    private static func stripPort(_ host: String) -> Substring {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") { return host[...close] }
        if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon { return host[..<colon] }
        return host[...]
    }
}

/// Query-string decoding for ``FlowRequest`` adapters: `a=1&b=x%20y&c` → `["a": "1", "b": "x y",
/// "c": ""]`, names and values percent-decoded, `+` read as a space, the first occurrence of a
/// name kept. Malformed escapes are kept as written (never an error: the request is the client's).
public enum FlowQueryString {
    public static func parameters<S: StringProtocol>(_ query: S) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            if result[name] == nil { result[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }

    /// The first value of parameter `name` in `query` (percent-decoded, `+` as space), without
    /// building the whole map: what a ``FlowRequest`` adapter answers per lookup.
    public static func first<S: StringProtocol>(_ name: String, in query: S) -> String? {
        for pair in query.split(separator: "&") {
            let equals = pair.firstIndex(of: "=")
            let rawName = equals.map { pair[..<$0] } ?? pair[...]
            let plain = !rawName.contains("%") && !rawName.contains("+")
            guard plain ? rawName == name : decode(rawName) == name else { continue }
            return equals.map { decode(pair[pair.index(after: $0)...]) } ?? ""
        }
        return nil
    }

    public static func decode<S: StringProtocol>(_ text: S) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
