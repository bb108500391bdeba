import HerzCoproc
import NIOHTTP1

/// Converts between NIO's HTTP heads and the wire's header lists. Pure functions.
enum WireHeaderConversion {
    /// `:method`, `:path`, `:authority` (from `Host`, omitted when absent), `:scheme`, then every
    /// regular field in order.
    static func request(_ head: HTTPRequestHead, scheme: String) -> [WireHeader] {
        var wire: [WireHeader] = []
        wire.reserveCapacity(head.headers.count + 4)
        wire.append(WireHeader(":method", head.method.rawValue))
        wire.append(WireHeader(":path", head.uri))
        if let host = head.headers.first(name: "host") { wire.append(WireHeader(":authority", host)) }
        wire.append(WireHeader(":scheme", scheme))
        appendFields(head.headers, to: &wire)
        return wire
    }

    /// `:status`, then every regular field in order.
    static func response(_ head: HTTPResponseHead) -> [WireHeader] {
        var wire = [WireHeader(":status", String(head.status.code))]
        appendFields(head.headers, to: &wire)
        return wire
    }

    static func fields(_ headers: HTTPHeaders) -> [WireHeader] {
        var wire: [WireHeader] = []
        appendFields(headers, to: &wire)
        return wire
    }

    static func appendFields(_ headers: HTTPHeaders, to wire: inout [WireHeader]) {
        for (name, value) in headers { wire.append(WireHeader(name, value)) }
    }

    /// Regular fields only: pseudo-headers (`:name`) are dropped.
    static func httpHeaders(_ wire: [WireHeader]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for field in wire where !field.name.hasPrefix(":") { headers.add(name: field.name, value: field.value) }
        return headers
    }
}

extension HTTPHeaders {
    /// Applies a coprocessor's edits: removals, then `set` (replaces every field of the name), then
    /// `append`. Names are case-insensitive; pseudo-headers (`:name`) are ignored.
    mutating func apply(_ mutation: HeaderMutation) {
        for name in mutation.remove where !name.hasPrefix(":") { self.remove(name: name) }
        for field in mutation.set where !field.name.hasPrefix(":") { self.replaceOrAdd(name: field.name, value: field.value) }
        for field in mutation.append where !field.name.hasPrefix(":") { self.add(name: field.name, value: field.value) }
    }

    mutating func apply(_ edit: ContentLengthEdit) {
        switch edit {
        case .keep:
            break
        case .remove:
            self.remove(name: "content-length")
        case .set(let length):
            self.remove(name: "transfer-encoding")
            self.replaceOrAdd(name: "content-length", value: String(length))
        }
    }
}
