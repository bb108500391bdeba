/// The `x-forwarded-client-cert` (XFCC) header in Envoy's format:
/// `Hash=<sha256 hex of the DER certificate>;Subject="<RFC 2253 subject>";URI=<first URI SAN>;DNS=<dns>;DNS=<dns>`.
///
/// Guarantees: the value is one element (Herz forwards only the certificate it verified itself,
/// never a client-supplied one, so there is no `,`-joined chain); quotes and backslashes inside
/// `Subject` are escaped; keys without a value are left out.
public struct ForwardedClientCert: Sendable, Equatable {
    public static let headerName = "x-forwarded-client-cert"

    /// Lower-case hex SHA-256 of the leaf certificate's DER bytes.
    public var hash: String
    /// Subject attributes in certificate order, e.g. `[("C","DE"),("O","Acme"),("CN","client")]`.
    public var subject: [(type: String, value: String)]
    public var uris: [String]
    public var dnsNames: [String]

    public init(hash: String, subject: [(type: String, value: String)], uris: [String], dnsNames: [String]) {
        self.hash = hash; self.subject = subject; self.uris = uris; self.dnsNames = dnsNames
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.headerValue == rhs.headerValue
    }

    /// The subject as RFC 2253 text: most specific attribute first, `,`-separated, special
    /// characters backslash-escaped (`CN=client,O=Acme,C=DE`), which is what Envoy forwards.
    public var subjectRFC2253: String {
        subject.reversed().map { "\($0.type)=\(Self.escapeRFC2253($0.value))" }.joined(separator: ",")
    }

    public var headerValue: String {
        var parts = ["Hash=\(hash)"]
        if !subject.isEmpty { parts.append("Subject=\"\(Self.quote(subjectRFC2253))\"") }
        if let uri = uris.first { parts.append("URI=\(uri)") }
        for dns in dnsNames { parts.append("DNS=\(dns)") }
        return parts.joined(separator: ";")
    }

    /// RFC 2253 §2.4: escape `,+"\<>;`, a leading `#` or space and a trailing space.
    static func escapeRFC2253(_ value: String) -> String {
        var out = ""
        for (index, ch) in value.enumerated() {
            let leading = index == 0 && (ch == "#" || ch == " ")
            let trailing = index == value.count - 1 && ch == " "
            if leading || trailing || ",+\"\\<>;".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// XFCC quoted values escape `"` and `\` with a backslash.
    static func quote(_ text: String) -> String {
        var out = ""
        for ch in text {
            if ch == "\"" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out
    }
}
