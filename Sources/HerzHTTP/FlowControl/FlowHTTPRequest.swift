import HerzCore
import NIOHTTP1

/// The ``FlowRequest`` of one HTTP request head and its stream: what flow rules look at. Built per
/// request on the stack; every lookup reads the head in place (no map of headers or parameters
/// is built), so a request that matches no rule costs what its rules' tests cost.
struct FlowHTTPRequest: FlowRequest {
    let head: HTTPRequestHead
    let info: StreamInfo

    var method: Substring { Substring(head.method.rawValue) }

    var path: Substring {
        let uri = head.uri
        return uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri[...]
    }

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
