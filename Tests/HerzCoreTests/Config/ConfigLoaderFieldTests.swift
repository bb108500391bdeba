import NIOCore
import XCTest
@testable import HerzCore

/// Every field of the YAML shape lands in the model.
final class ConfigLoaderFieldTests: XCTestCase {
    func testTopLevelCoprocessorsAccessLogDrain() throws {
        let yaml = config() + """

            coprocessors:
              - { name: jwt, endpoint: "unix:/run/herz/jwt.sock", timeout: 75ms, on_failure: wait, max_wait: 2s }
              - { name: aes, endpoint: "unix:/run/herz/aes.sock", on_failure: fail_open }
            access_log: { path: "/var/log/herz.log", format: envoy }
            drain_timeout: 30s
            admin: { address: "[::1]:9901" }
            """
        let config = try XCTUnwrap(parseOK(yaml))
        XCTAssertEqual(config.coprocessors, [
            CoprocessorConfig(name: "jwt", endpoint: "unix:/run/herz/jwt.sock", timeout: .milliseconds(75), onFailure: .wait, maxWait: .seconds(2)),
            CoprocessorConfig(name: "aes", endpoint: "unix:/run/herz/aes.sock", timeout: .milliseconds(50), onFailure: .failOpen),
        ])
        XCTAssertEqual(config.accessLog, AccessLogConfig(path: "/var/log/herz.log", format: .envoy))
        XCTAssertEqual(config.drainTimeout, .seconds(30))
        XCTAssertEqual(config.admin?.address, HostPort(host: "::1", port: 9901))
        XCTAssertEqual(config.admin?.address.description, "[::1]:9901")
    }

    func testListenerFieldsLimitsTLSAndFilters() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herz-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        try "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n".write(toFile: cert, atomically: true, encoding: .utf8)
        try "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n".write(toFile: key, atomically: true, encoding: .utf8)
        let yaml = """
            listeners:
              - name: edge
                address: "[::]:8443"
                protocol: https
                tls: { cert: "\(cert)", key: "\(key)" }
                limits:
                  max_request_headers_bytes: 32KiB
                  buffer_limit_bytes: 2MiB
                  idle_timeout: 2m
                  request_headers_timeout: 1.5s
                  request_timeout: 1h
                  max_concurrent_streams: 250
                filters:
                  - type: header_mutation
                    config:
                      request:
                        add: [{ name: x-a, value: "1" }, { name: x-b, value: 2, append: false }]
                        remove: [x-secret]
                      response: { remove: [server] }
                  - type: buffer
                    config: { max_request_bytes: 65536 }
                  - type: local_ratelimit
                    config: { max_tokens: 100, tokens_per_fill: 10, fill_interval: 1s, status_code: 503 }
                  - type: router
                    config:
                      virtual_hosts:
                        - { name: vh, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: a } }] }
              - address: "127.0.0.1:0"
                protocol: quic
                tls: { cert: "\(cert)", key: "\(key)" }
                limits: { request_timeout: 0s }
                quic: { retry: always, max_connections: 50, stateless_reset: false, stream_window_bytes: 1MiB }
                filters: [{ type: router, config: { virtual_hosts: [{ name: vh, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: a } }] }] } }]
            clusters: [{ name: a, endpoints: ["127.0.0.1:1"] }]
            """
        let config = try XCTUnwrap(parseOK(yaml))
        let edge = config.listeners[0]
        XCTAssertEqual(edge.name, "edge")
        XCTAssertEqual(edge.address, HostPort(host: "::", port: 8443))
        XCTAssertEqual(edge.protocol, .https)
        XCTAssertEqual(edge.tls, TLSConfig(certificatePath: cert, privateKeyPath: key))
        var limits = ListenerLimits()
        limits.maxRequestHeadersBytes = 32 * 1024
        limits.bufferLimitBytes = 2 * 1024 * 1024
        limits.idleTimeout = .minutes(2)
        limits.requestHeadersTimeout = .milliseconds(1500)
        limits.requestTimeout = .hours(1)
        limits.maxConcurrentStreams = 250
        XCTAssertEqual(edge.limits, limits)
        XCTAssertEqual(edge.filters, [
            .headerMutation(HeaderMutationConfig(
                request: HeaderMutations(add: [HeaderValueOption(name: "x-a", value: "1"), HeaderValueOption(name: "x-b", value: "2", append: false)],
                                         remove: ["x-secret"]),
                response: HeaderMutations(remove: ["server"]))),
            .buffer(BufferFilterConfig(maxRequestBytes: 65536)),
            .localRateLimit(LocalRateLimitConfig(maxTokens: 100, tokensPerFill: 10, fillInterval: .seconds(1), statusCode: 503)),
        ])
        XCTAssertEqual(config.listeners[1].name, "127.0.0.1:0")
        XCTAssertEqual(config.listeners[1].protocol, .quic)
        XCTAssertNil(config.listeners[1].limits.requestTimeout)
        var quic = QUICListenerConfig()
        quic.retry = .always
        quic.maxConnections = 50
        quic.statelessReset = false
        quic.streamWindowBytes = 1024 * 1024
        XCTAssertEqual(config.listeners[1].quic, quic)
        XCTAssertEqual(edge.quic, QUICListenerConfig(), "https listeners keep the defaults")
    }

    func testRouteFields() throws {
        let route = """
            - name: api
              match:
                regex: "/v[0-9]+/.*"
                case_sensitive: false
                methods: [get, POST]
                headers:
                  - { name: X-Canary, exact: "yes" }
                  - { name: x-debug, present: true, invert: true }
                  - { name: x-gone, present: false }
                  - { name: user-agent, regex: ".*curl.*" }
              route:
                weighted_clusters: { clusters: [{ name: a, weight: 90 }, { name: b, weight: 10 }] }
                timeout: 2.5s
                retry_policy: { retry_on: "5xx, connect-failure,reset", num_retries: 3, per_try_timeout: 500ms }
                host_rewrite: internal.example
                hash_policy:
                  - { header: { header_name: X-User } }
                  - { header: x-session }
                  - { cookie: { name: sid } }
                  - { cookie: tok }
                  - { connection_properties: { source_ip: true } }
                  - { source_ip: true }
                metadata_match: { version: v2, stage: canary }
              request_headers_to_add: [{ name: x-route, value: api }]
              request_headers_to_remove: [x-internal]
              response_headers_to_add: [{ name: x-served-by, value: herz, append: false }]
              response_headers_to_remove: [x-powered-by]
              per_filter_config:
                local_ratelimit: { max_tokens: 5, fill_interval: 100ms }
            - match: { path: "/exact" }
              route: { cluster_header: X-Cluster, timeout: 0s, prefix_rewrite: "/other" }
            - match: { prefix: "/list" }
              route: { weighted_clusters: [{ name: a, weight: 1 }, { name: b, weight: 3 }], retry_on_placeholder: 1 }
            """.replacingOccurrences(of: ", retry_on_placeholder: 1", with: ", retry_policy: { retry_on: [gateway-error, 5xx] }")
        let config = try XCTUnwrap(parseOK(config(route: route, clusters: "- { name: a, endpoints: [\"127.0.0.1:1\"] }\n- { name: b, endpoints: [\"127.0.0.1:2\"] }")))
        let routes = config.listeners[0].router.virtualHosts[0].routes
        XCTAssertEqual(routes.count, 3)
        let api = routes[0]
        XCTAssertEqual(api.name, "api")
        XCTAssertEqual(api.match, RouteMatch(path: .regex("/v[0-9]+/.*"), headers: [
            HeaderMatcher(name: "x-canary", kind: .exact("yes")),
            HeaderMatcher(name: "x-debug", kind: .present, invert: true),
            HeaderMatcher(name: "x-gone", kind: .present, invert: true),
            HeaderMatcher(name: "user-agent", kind: .regex(".*curl.*")),
        ], methods: ["GET", "POST"], caseSensitive: false))
        XCTAssertEqual(api.action, .weightedClusters([WeightedCluster(name: "a", weight: 90), WeightedCluster(name: "b", weight: 10)]))
        XCTAssertEqual(api.timeout, .milliseconds(2500))
        XCTAssertEqual(api.retryPolicy, RetryPolicy(retryOn: [.fiveXX, .connectFailure, .reset], numRetries: 3, perTryTimeout: .milliseconds(500)))
        XCTAssertEqual(api.hostRewrite, "internal.example")
        XCTAssertNil(api.prefixRewrite)
        XCTAssertEqual(api.hashPolicy, [.header("x-user"), .header("x-session"), .cookie("sid"), .cookie("tok"), .sourceIP, .sourceIP])
        XCTAssertEqual(api.metadataMatch, ["version": "v2", "stage": "canary"])
        XCTAssertEqual(api.requestHeaders, HeaderMutations(add: [HeaderValueOption(name: "x-route", value: "api")], remove: ["x-internal"]))
        XCTAssertEqual(api.responseHeaders, HeaderMutations(add: [HeaderValueOption(name: "x-served-by", value: "herz", append: false)], remove: ["x-powered-by"]))
        XCTAssertEqual(api.perFilterConfig, ["local_ratelimit": .localRateLimit(LocalRateLimitConfig(maxTokens: 5, tokensPerFill: 5, fillInterval: .milliseconds(100)))])

        XCTAssertEqual(routes[1].name, "vh/1")
        XCTAssertEqual(routes[1].match, RouteMatch(path: .exact("/exact")))
        XCTAssertEqual(routes[1].action, .clusterHeader("x-cluster"))
        XCTAssertNil(routes[1].timeout)
        XCTAssertEqual(routes[1].prefixRewrite, "/other")
        XCTAssertEqual(routes[2].timeout, .seconds(15))
        XCTAssertEqual(routes[2].action, .weightedClusters([WeightedCluster(name: "a", weight: 1), WeightedCluster(name: "b", weight: 3)]))
        XCTAssertEqual(routes[2].retryPolicy, RetryPolicy(retryOn: [.gatewayError, .fiveXX], numRetries: 1))
    }

    func testClusterFields() throws {
        let clusters = """
            - name: a
              lb_policy: maglev
              upstream_protocol: http2
              connect_timeout: 250ms
              idle_timeout: 90s
              endpoints:
                - { address: "10.0.0.1:80", weight: 3, metadata: { version: v1, zone: 7 } }
                - "backend.internal:8080"
                - { address: "[2001:db8::1]:443" }
              circuit_breakers: { max_connections: 10, max_pending_requests: 0, max_requests: 20, max_retries: 2 }
              health_check:
                interval: 2s
                timeout: 500ms
                healthy_threshold: 1
                unhealthy_threshold: 4
                path: /ready
                expected_statuses: [200, "204", "300-399"]
              outlier_detection: { consecutive_5xx: 3, base_ejection_time: 10s, max_ejection_time: 1m, max_ejection_percent: 50 }
              subset:
                selectors: [[version], [version, zone]]
                fallback_policy: default_subset
                default_subset: { version: v1 }
              ring_hash: { minimum_ring_size: 512 }
              maglev: { table_size: 251 }
            - { name: b, protocol: http1, lb_policy: least_request, endpoints: [{ address: "127.0.0.1:2" }] }
            """
        let config = try XCTUnwrap(parseOK(config(clusters: clusters)))
        let expected = ClusterConfig(
            name: "a", lbPolicy: .maglev,
            endpoints: [
                EndpointConfig(address: HostPort(host: "10.0.0.1", port: 80), weight: 3, metadata: ["version": "v1", "zone": "7"]),
                EndpointConfig(address: HostPort(host: "backend.internal", port: 8080)),
                EndpointConfig(address: HostPort(host: "2001:db8::1", port: 443)),
            ],
            upstreamProtocol: .http2, connectTimeout: .milliseconds(250),
            circuitBreakers: CircuitBreakerConfig(maxConnections: 10, maxPendingRequests: 0, maxRequests: 20, maxRetries: 2),
            healthCheck: HealthCheckConfig(interval: .seconds(2), timeout: .milliseconds(500), healthyThreshold: 1, unhealthyThreshold: 4,
                                           path: "/ready", expectedStatuses: [200...200, 204...204, 300...399]),
            outlierDetection: OutlierDetectionConfig(consecutive5xx: 3, baseEjectionTime: .seconds(10), maxEjectionTime: .minutes(1), maxEjectionPercent: 50),
            subset: SubsetConfig(selectors: [["version"], ["version", "zone"]], fallback: .defaultSubset, defaultSubset: ["version": "v1"]),
            ringHashMinimumRingSize: 512, maglevTableSize: 251, idleConnectionTimeout: .seconds(90))
        XCTAssertEqual(config.clusters[0], expected)
        XCTAssertEqual(config.clusters[1], ClusterConfig(name: "b", lbPolicy: .leastRequest, endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: 2))]))
    }
}
