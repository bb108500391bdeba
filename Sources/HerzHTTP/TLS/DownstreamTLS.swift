import HerzCore
import NIOCore
import NIOSSL

/// Builds a TLS listener's server context: the default certificate, the SNI table of the other
/// certificates (chosen per ClientHello through swift-nio-ssl's context callback, so one context
/// serves every name), ALPN `h2`/`http/1.1`, and client-certificate verification.
///
/// `client_auth: require` → `.noHostnameVerification` (BoringSSL asks for a certificate and fails
/// the handshake without a valid one); `request` → `.optionalVerification` (asks; none is fine; a
/// presented certificate that does not validate fails the handshake).
enum DownstreamTLS {
    struct LoadedCertificate: Sendable {
        var serverNames: [String]
        var chain: [NIOSSLCertificateSource]
        var key: NIOSSLPrivateKeySource
    }

    static func makeContext(_ tls: TLSConfig) throws -> NIOSSLContext {
        let loaded = try tls.certificates.map { entry in
            LoadedCertificate(serverNames: entry.serverNames,
                              chain: try TLSFiles.certificates(entry.certificatePath).map { .certificate($0) },
                              key: .privateKey(try TLSFiles.privateKey(entry.privateKeyPath)))
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: loaded[0].chain, privateKey: loaded[0].key)
        configuration.applicationProtocols = ["h2", "http/1.1"]
        switch tls.clientAuth {
        case .none: configuration.certificateVerification = .none
        case .request: configuration.certificateVerification = .optionalVerification
        case .require: configuration.certificateVerification = .noHostnameVerification
        }
        if let ca = tls.clientCAPath { configuration.trustRoots = .certificates(try TLSFiles.certificates(ca)) }
        if loaded.count > 1 || !loaded[0].serverNames.isEmpty {
            configuration.sslContextCallback = { hello, promise in
                var override = NIOSSLContextConfigurationOverride()
                if let name = hello.serverHostname, let match = selectCertificate(for: name, in: loaded), match != 0 {
                    override.certificateChain = loaded[match].chain
                    override.privateKey = loaded[match].key
                }
                promise.succeed(override)
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The index of the certificate serving `serverName`: the first whose `server_names` has an
    /// exact match, else the first with a matching wildcard; nil: the default (index 0).
    static func selectCertificate(for serverName: String, in certificates: [LoadedCertificate]) -> Int? {
        let names = certificates.map(\.serverNames)
        return CertificateSelector.index(for: serverName, serverNames: names)
    }
}
