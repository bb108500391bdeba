/// A listener's TLS settings (`tls:` on a `protocol: https` or `quic` listener): one or more
/// certificates chosen by SNI, and optional client-certificate authentication (mTLS).
///
/// Guarantees: `certificates` is never empty; the first entry is the default certificate (served
/// when SNI is absent or matches no `server_names`), and the QUIC listener uses it.
public struct TLSConfig: Sendable, Equatable {
    /// How a listener treats client certificates.
    public enum ClientAuth: String, Sendable, Equatable, CaseIterable {
        /// No certificate is asked for.
        case none
        /// A certificate is asked for; a connection without one is served (no XFCC), a presented
        /// certificate that fails validation fails the handshake.
        case request
        /// A valid certificate is required; without one (or with a bad one) the handshake fails.
        case require
    }

    public var certificates: [TLSCertificateConfig]
    public var clientAuth: ClientAuth
    /// PEM CA bundle that client certificates must chain to (required unless `clientAuth == .none`).
    public var clientCAPath: String?
    /// Patterns a verified client certificate's SANs (DNS or URI) must match one of (empty: any).
    public var allowedSANs: [String]

    /// The default certificate chain file (the first certificate).
    public var certificatePath: String { certificates[0].certificatePath }
    /// The default private key file. Never logged or dumped.
    public var privateKeyPath: String { certificates[0].privateKeyPath }

    public init(certificatePath: String, privateKeyPath: String) {
        self.init(certificates: [TLSCertificateConfig(certificatePath: certificatePath, privateKeyPath: privateKeyPath)])
    }

    public init(certificates: [TLSCertificateConfig], clientAuth: ClientAuth = .none, clientCAPath: String? = nil,
                allowedSANs: [String] = []) {
        precondition(!certificates.isEmpty, "a TLS listener needs at least one certificate")
        self.certificates = certificates; self.clientAuth = clientAuth
        self.clientCAPath = clientCAPath; self.allowedSANs = allowedSANs
    }

    /// Every file this config reads (watched for changes).
    public var files: [String] {
        certificates.flatMap { [$0.certificatePath, $0.privateKeyPath] } + (clientCAPath.map { [$0] } ?? [])
    }
}

/// One certificate of a listener and the SNI names it serves (`*.example.com` wildcards allowed;
/// empty for the default certificate).
public struct TLSCertificateConfig: Sendable, Equatable {
    public var certificatePath: String
    /// Never logged or dumped.
    public var privateKeyPath: String
    public var serverNames: [String]
    public init(certificatePath: String, privateKeyPath: String, serverNames: [String] = []) {
        self.certificatePath = certificatePath; self.privateKeyPath = privateKeyPath; self.serverNames = serverNames
    }
}

/// A cluster's TLS to its endpoints (`tls:` on a cluster).
///
/// Guarantees: verification is on unless `verify: false` was written; without `ca` the system
/// trust store is used; `alpn` always contains the token of the cluster's upstream protocol.
public struct UpstreamTLSConfig: Sendable, Equatable {
    /// SNI and the name the certificate is checked against (default: the endpoint's host when it
    /// is a DNS name; an IP endpoint without `sni` is checked by chain only).
    public var sni: String?
    /// PEM CA bundle (nil: the system trust store).
    public var caPath: String?
    public var verify: Bool
    public var alpn: [String]
    /// Client certificate chain and key for mTLS to the upstream.
    public var certificatePath: String?
    public var privateKeyPath: String?

    public init(sni: String? = nil, caPath: String? = nil, verify: Bool = true, alpn: [String] = ["http/1.1"],
                certificatePath: String? = nil, privateKeyPath: String? = nil) {
        self.sni = sni; self.caPath = caPath; self.verify = verify; self.alpn = alpn
        self.certificatePath = certificatePath; self.privateKeyPath = privateKeyPath
    }

    public var files: [String] { [caPath, certificatePath, privateKeyPath].compactMap { $0 } }
}
