import Crypto
import HerzCore
import NIOSSL

/// What a verified downstream client certificate says about the client: its SANs (for
/// `allowed_sans`) and its `x-forwarded-client-cert` value.
struct ClientCertificateIdentity: Sendable {
    let dnsNames: [String]
    let uris: [String]
    let xfcc: ForwardedClientCert

    /// Subject attribute short names (RFC 4514 §3 plus the ones swift-nio-ssl names).
    private static let attributeNames: [(SSLCertificateNameType, String)] = [
        (.country, "C"), (.state, "ST"), (.city, "L"), (.organization, "O"), (.organizationalUnit, "OU"),
        (.commonName, "CN"), (.emailAddress, "emailAddress"), (.userId, "UID"),
    ]

    init(certificate: NIOSSLCertificate) {
        var dns: [String] = [], uris: [String] = []
        for san in certificate._subjectAlternativeNames() {
            let text = san.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            if san.nameType == .dnsName { dns.append(text) } else if san.nameType == .uri { uris.append(text) }
        }
        let subject: [(type: String, value: String)] = certificate.subjectName.compactMap { name in
            Self.attributeNames.first { $0.0 == name.type }.map { (type: $0.1, value: name.value) }
        }
        let der = (try? certificate.toDERBytes()) ?? []
        let hash = SHA256.hash(data: der).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        self.dnsNames = dns
        self.uris = uris
        self.xfcc = ForwardedClientCert(hash: hash, subject: subject, uris: uris, dnsNames: dns)
    }

    /// True when `patterns` is empty or one of the SANs matches one of them.
    func isAllowed(by patterns: [String]) -> Bool {
        patterns.isEmpty || SANMatcher.anyMatches(dnsNames + uris, patterns: patterns)
    }
}
