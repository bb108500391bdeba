import CHerzQUIC

/// A listener's certificate chain and private key, loaded once into GnuTLS.
///
/// Immutable after creation and shared read-only by every worker's connections (GnuTLS allows
/// one credentials object to serve sessions on many threads). Freed when the last user lets go.
public final class QUICTLSCredentials: @unchecked Sendable {
    let credentials: gnutls_certificate_credentials_t

    public init(certificatePath: String, privateKeyPath: String) throws {
        var credentials: gnutls_certificate_credentials_t?
        let rv = herz_quic_credentials_new(&credentials, certificatePath, privateKeyPath)
        guard rv == 0, let credentials else {
            throw QUICError.credentials(path: certificatePath, message: QUICError.gnutlsMessage(rv))
        }
        self.credentials = credentials
    }

    deinit { gnutls_certificate_free_credentials(credentials) }
}
