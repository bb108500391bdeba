/// Which TCP listeners advertise HTTP/3 (`Alt-Svc: h3=":PORT"`, RFC 7838 / RFC 9114 §3.1.1): an
/// `https` listener whose port and certificate a `quic` listener shares. A client that learns it
/// may switch to HTTP/3 on the same port and name; nothing is advertised that would fail the
/// certificate check.
public enum AltSvcAdvertisement {
    /// How long clients may remember the alternative (24 h, the RFC 7838 default).
    public static let maxAgeSeconds = 86_400

    /// The `alt-svc` header value for `listener`, or nil.
    public static func value(for listener: ListenerConfig, among listeners: [ListenerConfig]) -> String? {
        guard listener.protocol == .https, let tls = listener.tls else { return nil }
        let shares = listeners.contains { other in
            other.protocol == .quic && other.tls == tls && other.address.port == listener.address.port
                && (other.address.host == listener.address.host || ["0.0.0.0", "::"].contains(other.address.host))
        }
        return shares ? "h3=\":\(listener.address.port)\"; ma=\(maxAgeSeconds)" : nil
    }
}
