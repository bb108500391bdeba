import XCTest
@testable import HerzCore

final class ConfigDumpTests: XCTestCase {
    /// A config using every feature, without TLS (whose key is redacted and so cannot round-trip).
    static let everything = config(listenerExtra: """
        name: edge
        limits: { buffer_limit_bytes: 64KiB, request_timeout: 30s }
        """, route: """
        - name: api
          match: { regex: "/v[0-9]+/.*", case_sensitive: false, methods: [GET], headers: [{ name: x-a, exact: "1" }, { name: x-b, present: false }, { name: x-c, regex: "a.*" }] }
          route:
            weighted_clusters: [{ name: a, weight: 3 }, { name: b, weight: 1 }]
            timeout: 0s
            retry_policy: { retry_on: "reset,5xx", per_try_timeout: 250ms }
            host_rewrite: up.internal
            hash_policy: [{ header: x-user }, { cookie: sid }, { source_ip: true }]
            metadata_match: { z: "1", a: "2" }
          request_headers_to_add: [{ name: x-r, value: "quote\\"d", append: false }]
          request_headers_to_remove: [x-q]
          response_headers_to_add: [{ name: x-s, value: v }]
          response_headers_to_remove: [server]
          per_filter_config: { local_ratelimit: { max_tokens: 2, fill_interval: 1s }, buffer: { max_request_bytes: 1MiB } }
        - match: { path: "/p" }
          route: { cluster_header: x-cluster, prefix_rewrite: "/q" }
        """, clusters: """
        - name: a
          lb_policy: ring_hash
          endpoints: [{ address: "[::1]:80", weight: 2, metadata: { v: "1" } }]
          health_check: { expected_statuses: [200, "300-302"] }
          outlier_detection: {}
          subset: { selectors: [[v]], fallback_policy: default_subset, default_subset: { v: "1" } }
        - { name: b, endpoints: ["127.0.0.1:1"], upstream_protocol: http2 }
        """) + """

        admin: { address: "127.0.0.1:9901" }
        coprocessors: [{ name: jwt, endpoint: "unix:/run/jwt.sock", on_failure: wait }]
        access_log: { path: stderr, format: json }
        drain_timeout: 5s
        """

    func testDumpParsesBackToTheSameConfig() throws {
        let original = try XCTUnwrap(parseOK(Self.everything))
        let dump = original.redactedDump()
        let reparsed = try ConfigLoader.parse(yaml: dump, source: "test.yaml")
        XCTAssertEqual(reparsed, original, dump)
        XCTAssertEqual(reparsed.redactedDump(), dump, "dump is deterministic")
    }

    func testTLSKeyIsRedacted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herz-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("c.pem").path, key = dir.appendingPathComponent("secret-key.pem").path
        try "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n".write(toFile: cert, atomically: true, encoding: .utf8)
        try "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n".write(toFile: key, atomically: true, encoding: .utf8)
        let config = try XCTUnwrap(parseOK(HerzCoreTests.config(listenerExtra: "protocol: https\ntls: { cert: \"\(cert)\", key: \"\(key)\" }")))
        let dump = config.redactedDump()
        XCTAssertFalse(dump.contains("secret-key"), dump)
        XCTAssertTrue(dump.contains("\"key\": \"<redacted>\""), dump)
        XCTAssertTrue(dump.contains("\"cert\": \"\(cert)\""), dump)
    }

    func testDumpShape() throws {
        let config = try ConfigLoader.parse(yaml: ConfigLoader.builtInDemo, source: "<built-in>")
        let dump = config.redactedDump()
        XCTAssertTrue(dump.hasPrefix("{\n  \"admin\": {\n    \"address\": \"127.0.0.1:9901\"\n  },\n  \"listeners\": [\n"), dump)
        XCTAssertTrue(dump.hasSuffix("  \"drain_timeout\": \"10s\"\n}\n"), dump)
        let json = try JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any]
        XCTAssertEqual((json?["clusters"] as? [[String: Any]])?.first?["name"] as? String, "demo")
    }
}
