import CHerzQUIC

/// A failure of the QUIC stack that the caller can act on (listener start-up, connection set-up).
/// Per-packet and per-stream failures never throw: they close the stream or the connection.
public enum QUICError: Error, CustomStringConvertible {
    /// GnuTLS refused the certificate or key (the message is GnuTLS's).
    case credentials(path: String, message: String)
    case tls(function: String, message: String)
    case ngtcp2(function: String, code: Int32)
    case nghttp3(function: String, code: Int32)

    public var description: String {
        switch self {
        case .credentials(let path, let message): return "cannot load certificate/key \(path): \(message)"
        case .tls(let function, let message): return "\(function): \(message)"
        case .ngtcp2(let function, let code): return "\(function): \(String(cString: ngtcp2_strerror(code)))"
        case .nghttp3(let function, let code): return "\(function): \(String(cString: nghttp3_strerror(code)))"
        }
    }

    static func gnutlsMessage(_ code: Int32) -> String { String(cString: gnutls_strerror(code)) }
}
