import HerzCore
import NIOHTTP1

/// The ``FlowRequest`` of one HTTP request head and its stream: what flow rules look at. Built per
/// request on the stack; every lookup reads the head in place (no map of headers or parameters
/// is built), so a request that matches no rule costs what its rules' tests cost.
struct FlowHTTPRequest: FlowRequest {
    let head: HTTPRequestHead
    let info: StreamInfo
    /// The target up to `?`, found once (byte search: the index and most rules read it).
    let path: Substring

    init(head: HTTPRequestHead, info: StreamInfo) {
        self.head = head
        self.info = info
        let uri = head.uri
        path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...]
    }

    var method: Substring { Substring(head.method.rawValue) }

    var host: Substring {
        guard let host = head.headers.first(name: "host") else { return "" }
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") { return host[...close] }
        if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon { return host[..<colon] }
        return host[...]
    }

    var clientIP: FlowIPAddress? { info.clientAddress.flatMap { FlowIPAddress($0) } }

    func header(_ lowercasedName: String) -> Substring? { head.headers.first(name: lowercasedName).map { $0[...] } }

    func queryParameter(_ name: String) -> Substring? {
        let uri = head.uri
        guard let question = uri.firstIndex(of: "?") else { return nil }
        return FlowQueryString.first(name, in: uri[uri.index(after: question)...]).map { $0[...] }
    }

    func metadata(_ key: String) -> Substring? {
        if let value = info.metadata[key] { return value[...] }
        return info.headerMetadata[key].flatMap { head.headers.first(name: $0) }.map { $0[...] }
    }
}
