/// Picks a listener certificate by SNI: an exact `server_names` entry wins over a wildcard
/// (`*.example.com`), earlier certificates win ties, nil means "serve the default (first)".
public enum CertificateSelector {
    public static func index(for serverName: String, serverNames: [[String]]) -> Int? {
        let name = serverName.lowercased()
        if let exact = serverNames.firstIndex(where: { $0.contains { !$0.hasPrefix("*.") && $0.lowercased() == name } }) {
            return exact
        }
        return serverNames.firstIndex { $0.contains { $0.hasPrefix("*.") && SANMatcher.matches(name, pattern: $0) } }
    }
}
