import XCTest
@testable import HerzCore

/// XFCC formatting, SAN and SNI matching: the pure parts of TLS.
final class TLSPureTests: XCTestCase {
    func testXFCCInEnvoysFormat() {
        let xfcc = ForwardedClientCert(hash: "ab01", subject: [("C", "DE"), ("O", "Acme, Inc."), ("CN", "client \"a\"")],
                                       uris: ["spiffe://x/ns/a", "spiffe://second"], dnsNames: ["a.test", "b.test"])
        XCTAssertEqual(xfcc.subjectRFC2253, #"CN=client \"a\",O=Acme\, Inc.,C=DE"#)
        XCTAssertEqual(xfcc.headerValue,
                       #"Hash=ab01;Subject="CN=client \\\"a\\\",O=Acme\\, Inc.,C=DE";URI=spiffe://x/ns/a;DNS=a.test;DNS=b.test"#)
    }

    func testXFCCLeavesOutEmptyParts() {
        XCTAssertEqual(ForwardedClientCert(hash: "ff", subject: [], uris: [], dnsNames: []).headerValue, "Hash=ff")
        XCTAssertEqual(ForwardedClientCert(hash: "ff", subject: [("CN", " lead#")], uris: [], dnsNames: []).headerValue,
                       #"Hash=ff;Subject="CN=\\ lead#""#)
    }

    func testSANMatching() {
        let cases: [(String, String, Bool)] = [
            ("a.example.com", "a.example.com", true), ("A.Example.com", "a.example.COM", true),
            ("a.example.com", "*.example.com", true), ("example.com", "*.example.com", false),
            ("a.b.example.com", "*.example.com", false), ("xexample.com", "*.example.com", false),
            ("spiffe://td/ns/a", "spiffe://td/ns/a", true), ("spiffe://td/ns/A", "spiffe://td/ns/a", false),
            ("b.example.com", "a.example.com", false),
        ]
        for (name, pattern, expected) in cases {
            XCTAssertEqual(SANMatcher.matches(name, pattern: pattern), expected, "\(name) vs \(pattern)")
        }
        XCTAssertTrue(SANMatcher.anyMatches(["x.test", "spiffe://td/a"], patterns: ["spiffe://td/a"]))
        XCTAssertFalse(SANMatcher.anyMatches([], patterns: ["*.test"]))
    }

    func testSNICertificateSelectionPrefersExactOverWildcard() {
        let names = [[], ["*.example.com"], ["api.example.com"], ["other.test"]]
        XCTAssertEqual(CertificateSelector.index(for: "api.example.com", serverNames: names), 2)
        XCTAssertEqual(CertificateSelector.index(for: "www.example.com", serverNames: names), 1)
        XCTAssertEqual(CertificateSelector.index(for: "OTHER.test", serverNames: names), 3)
        XCTAssertNil(CertificateSelector.index(for: "nothing.test", serverNames: names))
    }
}

/// The `tls:` blocks of listeners and clusters: shapes, defaults and `file:line:col` errors.
final class TLSConfigDecodingTests: XCTestCase {
    var dir: URL!
    var cert = "", key = "", ca = "", garbage = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("herz-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        cert = dir.appendingPathComponent("c.pem").path; key = dir.appendingPathComponent("k.pem").path
        ca = dir.appendingPathComponent("ca.pem").path; garbage = dir.appendingPathComponent("g.pem").path
        try "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n".write(toFile: cert, atomically: true, encoding: .utf8)
        try "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n".write(toFile: ca, atomically: true, encoding: .utf8)
        try "-----BEGIN EC PRIVATE KEY-----\nx\n-----END EC PRIVATE KEY-----\n".write(toFile: key, atomically: true, encoding: .utf8)
        try "hello\n".write(toFile: garbage, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testListenerWithSNICertificatesAndClientAuth() throws {
        let tls = """
            protocol: https
            tls:
              certificates:
                - { cert: "\(cert)", key: "\(key)" }
                - { cert: "\(cert)", key: "\(key)", server_names: ["api.test", "*.api.test"] }
              client_auth: require
              ca: "\(ca)"
              allowed_sans: ["spiffe://td/ns/a"]
            """
        let config = try XCTUnwrap(parseOK(HerzCoreTests.config(listenerExtra: tls)))
        let listenerTLS = try XCTUnwrap(config.listeners[0].tls)
        XCTAssertEqual(listenerTLS, TLSConfig(certificates: [
            TLSCertificateConfig(certificatePath: cert, privateKeyPath: key),
            TLSCertificateConfig(certificatePath: cert, privateKeyPath: key, serverNames: ["api.test", "*.api.test"]),
        ], clientAuth: .require, clientCAPath: ca, allowedSANs: ["spiffe://td/ns/a"]))
        XCTAssertEqual(listenerTLS.certificatePath, cert)
        let dump = config.redactedDump()
        XCTAssertTrue(dump.contains("\"client_auth\": \"require\""), dump)
        XCTAssertFalse(dump.contains(key), dump)
    }

    func testOldSingleCertificateShapeStillDecodes() throws {
        let config = try XCTUnwrap(parseOK(HerzCoreTests.config(listenerExtra: "protocol: https\ntls: { cert: \"\(cert)\", key: \"\(key)\" }")))
        XCTAssertEqual(config.listeners[0].tls, TLSConfig(certificatePath: cert, privateKeyPath: key))
        XCTAssertEqual(config.listeners[0].tls?.clientAuth, TLSConfig.ClientAuth.none)
    }

    func testClusterTLSDefaultsAndALPN() throws {
        let clusters = """
            - { name: a, endpoints: ["127.0.0.1:9001"], tls: { sni: api.internal } }
            - { name: b, endpoints: ["127.0.0.1:9002"], protocol: http2, tls: { ca: "\(ca)", alpn: [h2, http/1.1], cert: "\(cert)", key: "\(key)" } }
            - { name: c, endpoints: ["127.0.0.1:9003"], tls: { verify: false } }
            """
        let config = try XCTUnwrap(parseOK(HerzCoreTests.config(clusters: clusters)))
        XCTAssertEqual(config.clusters[0].tls, UpstreamTLSConfig(sni: "api.internal"))
        XCTAssertEqual(config.clusters[0].tls?.verify, true, "verification is on by default")
        XCTAssertEqual(config.clusters[1].tls, UpstreamTLSConfig(caPath: ca, alpn: ["h2"], certificatePath: cert, privateKeyPath: key))
        XCTAssertEqual(config.clusters[2].tls?.verify, false)
        let dump = config.redactedDump()
        XCTAssertTrue(dump.contains("\"sni\": \"api.internal\""), dump)
        XCTAssertFalse(dump.contains(key), dump)
    }

    func testErrorsHaveLocations() {
        let cases: [(String, String, String)] = [
            ("listener", "protocol: https\ntls: { cert: \"\(garbage)\", key: \"\(key)\" }", "not a PEM file with a CERTIFICATE block"),
            ("listener", "protocol: https\ntls: { cert: \"\(cert)\", key: \"\(cert)\" }", "not a PEM file with a PRIVATE KEY block"),
            ("listener", "protocol: https\ntls: { cert: \"\(cert)\", key: \"\(key)\", allowed_sans: [a] }", "needs client_auth"),
            ("listener", "protocol: https\ntls: { cert: \"\(cert)\", key: \"\(key)\", client_auth: require }", "missing required field 'ca'"),
            ("listener", "protocol: https\ntls: { cert: \"\(cert)\", key: \"\(key)\", client_auth: require, ca: \"\(ca)\", crl: /x.crl }", "CRL checking is not supported"),
            ("listener", "protocol: https\ntls: { cert: \"\(cert)\", key: \"\(key)\", certificates: [] }", "either cert/key or certificates"),
            ("cluster", "- { name: a, endpoints: [\"127.0.0.1:1\"], protocol: http2, tls: { alpn: [http/1.1] } }", "must offer h2"),
            ("cluster", "- { name: a, endpoints: [\"127.0.0.1:1\"], tls: { cert: \"\(cert)\" } }", "missing required field 'key'"),
            ("cluster", "- { name: a, endpoints: [\"127.0.0.1:1\"], tls: { ca: /nonexistent.pem } }", "does not exist"),
        ]
        for (kind, snippet, message) in cases {
            let yaml = kind == "listener" ? HerzCoreTests.config(listenerExtra: snippet) : HerzCoreTests.config(clusters: snippet)
            let errors = parseErrors(yaml)
            XCTAssertTrue(errors.contains { $0.message.contains(message) && $0.location.line > 0 }, "\(snippet): \(errors)")
        }
    }
}
