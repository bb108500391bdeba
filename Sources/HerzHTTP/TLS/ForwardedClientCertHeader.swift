import HerzCore
import NIOHTTP1

/// Sanitise-then-set of `x-forwarded-client-cert` (Envoy's `SANITIZE_SET`): a client can never
/// forge an identity, and a verified one is forwarded as exactly one header.
enum ForwardedClientCertHeader {
    @inline(__always)
    static func apply(_ value: String?, to headers: inout HTTPHeaders) {
        if headers.contains(name: ForwardedClientCert.headerName) { headers.remove(name: ForwardedClientCert.headerName) }
        if let value { headers.add(name: ForwardedClientCert.headerName, value: value) }
    }
}
