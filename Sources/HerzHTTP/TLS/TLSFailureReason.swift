/// Short, stable tokens for TLS handshake failures (the value of `x-herz-upstream-tls-error` and
/// the `reason` of log lines), read from swift-nio-ssl's / BoringSSL's error text.
enum TLSFailureReason {
    private static let table: [(String, String)] = [
        ("CERTIFICATE_VERIFY_FAILED", "certificate_verify_failed"),
        ("cannotMatchULabel", "hostname_mismatch"),
        ("failedToValidateHostname", "hostname_mismatch"),
        ("unableToValidateCertificate", "certificate_verify_failed"),
        ("PEER_DID_NOT_RETURN_A_CERTIFICATE", "no_client_certificate"),
        ("WRONG_VERSION_NUMBER", "not_tls"),
        ("ALERT_CERTIFICATE_REQUIRED", "client_certificate_required"),
        ("ALERT_UNKNOWN_CA", "peer_rejected_certificate_unknown_ca"),
        ("ALERT_BAD_CERTIFICATE", "peer_rejected_certificate"),
        ("ALERT_CERTIFICATE_EXPIRED", "peer_rejected_certificate_expired"),
        ("ALERT_HANDSHAKE_FAILURE", "handshake_failure_alert"),
        ("NO_APPLICATION_PROTOCOL", "alpn_mismatch"),
        ("eofDuringHandshake", "handshake_eof"),
        ("EOF during handshake", "handshake_eof"),
    ]

    static func classify(_ text: String) -> String {
        table.first { text.contains($0.0) }?.1 ?? "handshake_failed"
    }
}
