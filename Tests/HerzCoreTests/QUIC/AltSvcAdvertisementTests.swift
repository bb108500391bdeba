import HerzCore
import XCTest

final class AltSvcAdvertisementTests: XCTestCase {
    let tls = TLSConfig(certificatePath: "/c.pem", privateKeyPath: "/k.pem")
    let router = RouterConfig(virtualHosts: [])

    func listener(_ proto: ListenerConfig.ListenerProtocol, _ host: String, _ port: Int, tls: TLSConfig?) -> ListenerConfig {
        ListenerConfig(name: "\(proto)\(host)\(port)", address: HostPort(host: host, port: port), protocol: proto, tls: tls, router: router)
    }

    func testOnlyHTTPSListenersSharingPortAndCertificateAdvertise() {
        let https = listener(.https, "127.0.0.1", 8443, tls: tls)
        let rows: [(String, [ListenerConfig], String?)] = [
            ("same port, same cert", [listener(.quic, "127.0.0.1", 8443, tls: tls)], "h3=\":8443\"; ma=86400"),
            ("quic on the wildcard address", [listener(.quic, "0.0.0.0", 8443, tls: tls)], "h3=\":8443\"; ma=86400"),
            ("other port", [listener(.quic, "127.0.0.1", 9443, tls: tls)], nil),
            ("other certificate", [listener(.quic, "127.0.0.1", 8443, tls: TLSConfig(certificatePath: "/o.pem", privateKeyPath: "/k.pem"))], nil),
            ("no quic listener", [], nil),
        ]
        for (name, others, expected) in rows {
            XCTAssertEqual(AltSvcAdvertisement.value(for: https, among: [https] + others), expected, name)
        }
        let plain = listener(.http, "127.0.0.1", 8443, tls: nil)
        XCTAssertNil(AltSvcAdvertisement.value(for: plain, among: [plain, listener(.quic, "127.0.0.1", 8443, tls: tls)]))
    }
}
