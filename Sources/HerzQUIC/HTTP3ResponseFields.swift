import NIOHTTP1

/// The header fields of an HTTP/3 response (or trailers) as nghttp3 wants them: `:status` first,
/// names lowercase, and none of the connection-specific fields HTTP/3 forbids (RFC 9114 §4.2) —
/// whatever the upstream sent.
enum HTTP3ResponseFields {
    /// Fields that are meaningless or forbidden in HTTP/3.
    static let connectionSpecific: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]

    static func fields(status: HTTPResponseStatus?, headers: HTTPHeaders) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(headers.count + 1)
        if let status { fields.append((":status", String(status.code))) }
        for (name, value) in headers {
            let lower = name.lowercased()
            if connectionSpecific.contains(lower) || lower.hasPrefix(":") { continue }
            if lower == "te" && value.lowercased() != "trailers" { continue }
            fields.append((lower, value))
        }
        return fields
    }
}
