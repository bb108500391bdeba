import NIOCore
import NIOHTTP1

/// An HTTP/1.1 request that asks to go on in cleartext HTTP/2 (`Upgrade: h2c`, RFC 7540 §3.2),
/// checked, and the HTTP/2 header list that carries it as stream 1 once the connection switched.
///
/// A pure value: no channel, no event loop. ``H2CUpgradeStateMachine`` evaluates each first
/// request head with ``evaluate(_:isSecure:)``; the table of cases is tested without a socket.
struct H2CUpgradeRequest: Equatable {
    /// What to do with a request head.
    enum Evaluation: Equatable {
        /// A valid upgrade request: answer `101 Switching Protocols`, serve it on HTTP/2 stream 1.
        case upgrade(H2CUpgradeRequest)
        /// Serve as plain HTTP/1.1 and ignore any `Upgrade` (RFC 9113 §3.1 lets a server do so).
        case serveAsHTTP1(DeclineReason)
        /// Asks for h2c correctly but its `HTTP2-Settings` is malformed: answer 400 and close.
        case reject(String)
    }

    /// Why a request is served as HTTP/1.1 rather than upgraded.
    enum DeclineReason: Equatable {
        /// No `h2c` token in `Upgrade`: the ordinary case, nothing to do.
        case notRequested
        /// h2c is cleartext only; over TLS, ALPN chose the protocol already.
        case secureTransport
        /// Only HTTP/1.1 requests may upgrade.
        case notHTTP11
        /// `Connection` must name both `Upgrade` and `HTTP2-Settings` (RFC 7540 §3.2.1).
        case connectionTokensMissing
        /// No `HTTP2-Settings` header.
        case settingsMissing
        /// More than one `HTTP2-Settings` header: RFC 7540 §3.2.1 forbids upgrading.
        case settingsRepeated
        /// `Expect: 100-continue`: the body only comes after an interim response that has no
        /// place in an upgrade.
        case expectsContinue
        /// A request target HTTP/2 cannot carry as `:path` (absolute form, `CONNECT`).
        case unsupportedTarget
    }

    /// The most request body bytes held back to replay as stream 1's DATA. It is the HTTP/2
    /// default initial window (RFC 9113 §6.9.2): until the client acknowledges our SETTINGS, a
    /// client may send no more than that on one stream. Larger bodies are served as HTTP/1.1.
    /// The replayed DATA counts against the server's connection window but not the client's;
    /// the skew (at most this much) is harmless, as NIO tops the connection window up to its
    /// 4 MiB target on receipt whenever it falls below half.
    static let maxBufferedBodyBytes = 65_535

    /// The request as the HTTP/1.1 decoder produced it.
    let head: HTTPRequestHead
    /// The decoded `HTTP2-Settings` value: a SETTINGS frame payload, six bytes per setting.
    let settingsPayload: [UInt8]

    /// Request headers that describe the HTTP/1.1 connection only and never enter HTTP/2
    /// (RFC 9113 §8.2.2), plus `host`, which becomes `:authority`.
    static let connectionSpecificHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings", "host",
    ]

    static func evaluate(_ head: HTTPRequestHead, isSecure: Bool) -> Evaluation {
        let upgrades = head.headers[canonicalForm: "upgrade"].map { $0.lowercased() }
        guard upgrades.contains("h2c") else { return .serveAsHTTP1(.notRequested) }
        guard !isSecure else { return .serveAsHTTP1(.secureTransport) }
        guard head.version == .http1_1 else { return .serveAsHTTP1(.notHTTP11) }
        let connection = Set(head.headers[canonicalForm: "connection"].map { $0.lowercased() })
        guard connection.contains("upgrade"), connection.contains("http2-settings") else {
            return .serveAsHTTP1(.connectionTokensMissing)
        }
        let settings = head.headers["http2-settings"]
        guard !settings.isEmpty else { return .serveAsHTTP1(.settingsMissing) }
        guard settings.count == 1 else { return .serveAsHTTP1(.settingsRepeated) }
        guard let payload = decodeBase64URL(settings[0]) else {
            return .reject("HTTP2-Settings is not base64url")
        }
        guard payload.count % 6 == 0 else {
            return .reject("HTTP2-Settings is \(payload.count) bytes, not a multiple of 6")
        }
        if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            return .serveAsHTTP1(.expectsContinue)
        }
        guard head.method != .CONNECT, head.uri.hasPrefix("/") || (head.uri == "*" && head.method == .OPTIONS) else {
            return .serveAsHTTP1(.unsupportedTarget)
        }
        return .upgrade(H2CUpgradeRequest(head: head, settingsPayload: payload))
    }

    /// Whether NIO's HTTP/1.1 decoder stops parsing after this request. It follows llhttp, which
    /// treats `Connection: upgrade` with an `Upgrade` header as a protocol switch and leaves the
    /// bytes after the request unparsed; a declined upgrade must then restart the decoder.
    static func stopsHTTP1Decoder(_ head: HTTPRequestHead) -> Bool {
        head.method != .CONNECT && head.headers.contains(name: "upgrade")
            && head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }

    /// Decodes base64url (RFC 4648 §5). Trailing `=` padding is tolerated though RFC 7540 says
    /// to omit it; any other character outside the alphabet, or an impossible length, is `nil`.
    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        var sextets: [UInt8] = []
        sextets.reserveCapacity(text.utf8.count)
        var padding = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): sextets.append(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): sextets.append(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sextets.append(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"): sextets.append(62)
            case UInt8(ascii: "_"): sextets.append(63)
            default: return nil
            }
        }
        guard sextets.count % 4 != 1, padding <= 2, padding == 0 || (sextets.count + padding) % 4 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sextets.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for sextet in sextets {
            accumulator = (accumulator << 6) | UInt32(sextet)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return bytes
    }

    /// The header list of stream 1: `:method`, `:scheme` (`http`), `:path`, `:authority` (from
    /// `Host`, when there is one), then the request's own headers with lower-case names, minus
    /// ``connectionSpecificHeaders``, minus those the `Connection` header names, and minus `te`
    /// unless it is `trailers` (RFC 9113 §8.2.2).
    var http2Headers: [(name: String, value: String)] {
        var list: [(name: String, value: String)] = [
            (":method", head.method.rawValue), (":scheme", "http"), (":path", head.uri),
        ]
        if let host = head.headers.first(name: "host") { list.append((":authority", host)) }
        let named = Set(head.headers[canonicalForm: "connection"].map { $0.lowercased() })
        for (name, value) in head.headers {
            let lower = name.lowercased()
            if Self.connectionSpecificHeaders.contains(lower) || named.contains(lower) { continue }
            if lower == "te" && value.lowercased() != "trailers" { continue }
            list.append((lower, value))
        }
        return list
    }
}
