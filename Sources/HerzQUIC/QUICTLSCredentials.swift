import CHerzQUIC
import NIOConcurrencyHelpers

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

/// The certificate a quic listener hands to new connections, replaceable at run time (config
/// reload with a changed `tls:`): each connection keeps the credentials it started with alive
/// until it ends, so established connections are not touched by a swap.
public final class QUICCredentialSlot: @unchecked Sendable {
    private let current: NIOLockedValueBox<QUICTLSCredentials>

    public init(_ credentials: QUICTLSCredentials) {
        current = NIOLockedValueBox(credentials)
    }

    /// What a connection starting now uses.
    public var credentials: QUICTLSCredentials { current.withLockedValue { $0 } }

    public func replace(with credentials: QUICTLSCredentials) {
        current.withLockedValue { $0 = credentials }
    }
}
