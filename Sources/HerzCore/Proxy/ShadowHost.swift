/// The `Host`/`:authority` of a mirrored request: `-shadow` appended to the host name, before the
/// port when there is one (`api.example.com:8080` → `api.example.com-shadow:8080`), as Envoy's
/// router does for shadow requests. An IPv6 literal keeps its brackets (`[::1]:80` →
/// `[::1]-shadow:80`); a bare IPv6 address without brackets gets the suffix at the end.
public enum ShadowHost {
    public static let suffix = "-shadow"

    public static func make(_ host: String) -> String {
        var name = Substring(host)
        var port: Substring = ""
        if let colon = host.lastIndex(of: ":") {
            let tail = host[host.index(after: colon)...]
            let isIPv6WithoutPort = host.hasPrefix("[") && !host[..<colon].hasSuffix("]")
            if !tail.isEmpty, tail.allSatisfy(\.isASCIIDigit), !isIPv6WithoutPort, host.firstIndex(of: ":") == colon || host.hasPrefix("[") {
                name = host[..<colon]
                port = host[colon...]
            }
        }
        return name + suffix + port
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
