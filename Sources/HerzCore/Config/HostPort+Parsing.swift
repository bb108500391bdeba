extension HostPort {
    /// Parses `host:port`, `[v6]:port`. The host is an IPv4 literal, an IPv6 literal in brackets,
    /// or a DNS name (letters, digits, `-`, `.`, `_`). Returns a reason on failure.
    public static func parse(_ text: String, allowPortZero: Bool = false) -> Result<HostPort, HostPortError> {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .failure(.init("missing ']' after IPv6 address")) }
            host = text[text.index(after: text.startIndex)..<close]
            let afterClose = text[text.index(after: close)...]
            guard afterClose.hasPrefix(":") else { return .failure(.init("expected ':port' after ']'")) }
            portText = afterClose.dropFirst()
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                return .failure(.init("'\(host)' is not an IPv6 address"))
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return .failure(.init("expected host:port")) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return .failure(.init("IPv6 addresses must be written in brackets, e.g. [::1]:8080")) }
            guard !host.isEmpty else { return .failure(.init("missing host")) }
            let allowed = host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }
            guard allowed, !host.hasPrefix("."), !host.hasPrefix("-") else { return .failure(.init("'\(host)' is not a valid host")) }
            if host.allSatisfy({ $0.isNumber || $0 == "." }) {
                let parts = host.split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && Int($0)! <= 255 }) else {
                    return .failure(.init("'\(host)' is not a valid IPv4 address"))
                }
            }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText),
              port <= 65535, port > 0 || allowPortZero else {
            return .failure(.init("port must be \(allowPortZero ? 0 : 1)...65535"))
        }
        return .success(HostPort(host: String(host), port: port))
    }
}

public struct HostPortError: Error, Sendable, Equatable {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
}
