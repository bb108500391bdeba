import XCTest
@testable import HerzCore

/// Every rejected config reports each problem at its exact `line:col`.
final class ConfigLoaderErrorTests: XCTestCase {
    /// A valid config, one line per entry (line N is `base[N - 1]`).
    static let base = [
        "listeners:",                                       // 1
        "  - address: \"127.0.0.1:8080\"",                  // 2
        "    filters:",                                     // 3
        "      - type: router",                             // 4
        "        config:",                                  // 5
        "          virtual_hosts:",                         // 6
        "            - name: vh",                           // 7
        "              domains: [\"*\"]",                   // 8
        "              routes:",                            // 9
        "                - match: { prefix: \"/\" }",       // 10
        "                  route: { cluster: a }",          // 11
        "clusters:",                                        // 12
        "  - { name: a, endpoints: [\"127.0.0.1:9001\"] }", // 13
    ]

    /// `base` with line `n` (1-based) replaced by `replacement` (which may span several lines).
    static func yaml(_ replacements: [Int: String] = [:], appending extra: [String] = []) -> String {
        var lines = base
        for (line, text) in replacements { lines[line - 1] = text }
        return (lines + extra).joined(separator: "\n") + "\n"
    }

    func testBaseIsValid() {
        XCTAssertNotNil(parseOK(Self.yaml()))
    }

    struct Case {
        var name: String
        var yaml: String
        /// `line:col` and a fragment of the message, in report order.
        var expected: [(String, String)]
    }

    static let cases: [Case] = [
        Case(name: "typo at top level", yaml: yaml([1: "listners:"]),
             expected: [("1:1", "unknown field 'listners' (did you mean 'listeners'?)"), ("1:1", "missing required field 'listeners'")]),
        Case(name: "typo in match", yaml: yaml([10: "                - match: { prefx: \"/\" }"]),
             expected: [("10:28", "unknown field 'prefx' (did you mean 'prefix'?)"),
                        ("10:26", "routes[0].match: exactly one of 'prefix', 'path', 'regex' must be given")]),
        Case(name: "string where a mapping is expected", yaml: yaml([11: "                  route: \"a\""]),
             expected: [("11:26", "routes[0].route: expected a mapping, found the string 'a'")]),
        Case(name: "list where a string is expected", yaml: yaml([7: "            - name: [vh]"]),
             expected: [("7:21", "virtual_hosts[0].name: expected a string, found a list")]),
        Case(name: "bad duration", yaml: yaml([11: "                  route: { cluster: a, timeout: 5x }"]),
             expected: [("11:49", "routes[0].route.timeout: invalid value '5x': use a number with a unit")]),
        Case(name: "bare number duration", yaml: yaml([11: "                  route: { cluster: a, timeout: 5 }"]),
             expected: [("11:49", "invalid value '5'")]),
        Case(name: "bad size", yaml: yaml([3: "    limits: { buffer_limit_bytes: 1MB }\n    filters:"]),
             expected: [("3:35", "listeners[0].limits.buffer_limit_bytes: invalid value '1MB': use a byte count or a size like 64KiB")]),
        Case(name: "unknown cluster", yaml: yaml([11: "                  route: { cluster: b }"]),
             expected: [("11:37", "route names unknown cluster 'b'")]),
        Case(name: "unknown weighted cluster and zero weight",
             yaml: yaml([11: "                  route: { weighted_clusters: [{ name: a, weight: 0 }, { name: c, weight: 1 }] }"]),
             expected: [("11:67", "weight: invalid value '0': must be in 1...1000000"), ("11:80", "unknown cluster 'c'")]),
        Case(name: "router not last", yaml: yaml([4: "      - type: router\n        config: {}\n      - type: buffer\n        config: { max_request_bytes: 10 }\n      - type: router"]),
             expected: [("4:15", "filter 'router' must be the last filter")]),
        Case(name: "missing router", yaml: yaml([4: "      - type: buffer\n        config: { max_request_bytes: 10 }\n      - type: header_mutation"],
                                                 ).replacingOccurrences(of: "        config:\n          virtual_hosts", with: "        config:\n          request: {}\n          x_virtual_hosts"),
             expected: [("9:11", "unknown field 'x_virtual_hosts'"), ("4:7", "listener has no 'router' filter")]),
        Case(name: "unknown filter type", yaml: yaml([4: "      - type: ext_authz\n        config: {}\n      - type: router"]),
             expected: [("4:15", "unknown filter type 'ext_authz'; known types: header_mutation, buffer, local_ratelimit, coproc, jwt_authn, aes_gcm, flow_control, fault, router")]),
        Case(name: "bad regex", yaml: yaml([10: "                - match: { regex: \"/(\" }"]),
             expected: [("10:35", "invalid regex '/('")]),
        Case(name: "bad header regex", yaml: yaml([10: "                - match: { prefix: \"/\", headers: [{ name: x, regex: \"[\" }] }"]),
             expected: [("10:69", "invalid regex '['")]),
        Case(name: "two path matchers", yaml: yaml([10: "                - match: { prefix: \"/\", path: \"/x\" }"]),
             expected: [("10:41", "exactly one of 'prefix', 'path', 'regex' must be given")]),
        Case(name: "prefix without slash", yaml: yaml([10: "                - match: { prefix: \"v1\" }"]),
             expected: [("10:36", "prefix: invalid value 'v1': must start with '/'")]),
        Case(name: "duplicate cluster", yaml: yaml(appending: ["  - { name: a, endpoints: [\"127.0.0.1:9002\"] }"]),
             expected: [("14:13", "duplicate cluster name 'a' (first defined at test.yaml:13:13)")]),
        Case(name: "cluster without endpoints", yaml: yaml([13: "  - { name: a, endpoints: [] }"]),
             expected: [("13:27", "a cluster needs at least one endpoint")]),
        Case(name: "cluster missing endpoints", yaml: yaml([13: "  - { name: a }"]),
             expected: [("13:5", "clusters[0]: missing required field 'endpoints'")]),
        Case(name: "bad endpoint port", yaml: yaml([13: "  - { name: a, endpoints: [\"127.0.0.1:99999\"] }"]),
             expected: [("13:28", "invalid value '127.0.0.1:99999': port must be 1...65535")]),
        Case(name: "bad listener address", yaml: yaml([2: "  - address: \"::1:8080\""]),
             expected: [("2:14", "IPv6 addresses must be written in brackets")]),
        Case(name: "duplicate listener address",
             yaml: yaml(appending: ["listeners_placeholder"]).replacingOccurrences(of: "listeners:\n", with: "listeners:\n  - name: other\n    address: \"127.0.0.1:8080\"\n    filters: [{ type: router, config: { virtual_hosts: [{ name: v, domains: [x], routes: [] }] } }]\n").replacingOccurrences(of: "listeners_placeholder\n", with: ""),
             expected: [("5:14", "duplicate listener address '127.0.0.1:8080' (first defined at test.yaml:3:14)")]),
        Case(name: "duplicate domain across virtual hosts",
             yaml: yaml([11: "                  route: { cluster: a }\n            - name: vh2\n              domains: [\"API.example.com\", \"*\"]\n              routes: []"]),
             expected: [("13:44", "duplicate domain '*' (first defined at test.yaml:8:25)")]),
        Case(name: "empty domains", yaml: yaml([8: "              domains: []"]),
             expected: [("8:24", "a virtual host needs at least one domain")]),
        Case(name: "bad domain wildcard", yaml: yaml([8: "              domains: [\"api.*.com\"]"]),
             expected: [("8:25", "a wildcard '*' may only be the first or the last character")]),
        Case(name: "https without tls", yaml: yaml([2: "  - address: \"127.0.0.1:8443\"\n    protocol: https"]),
             expected: [("3:15", "missing required field 'tls'")]),
        Case(name: "tls files missing",
             yaml: yaml([2: "  - address: \"127.0.0.1:8443\"\n    protocol: https\n    tls: { cert: /nonexistent/c.pem, key: /nonexistent/k.pem }"]),
             expected: [("4:18", "tls.cert: file '/nonexistent/c.pem' does not exist"), ("4:43", "tls.key: file '/nonexistent/k.pem' does not exist")]),
        Case(name: "maglev table size not prime", yaml: yaml([13: "  - { name: a, endpoints: [\"127.0.0.1:9001\"], maglev: { table_size: 65536 } }"]),
             expected: [("13:69", "table_size: invalid value '65536': must be a prime")]),
        Case(name: "threshold below one", yaml: yaml([13: "  - { name: a, endpoints: [\"127.0.0.1:9001\"], health_check: { healthy_threshold: 0 } }"]),
             expected: [("13:82", "healthy_threshold: invalid value '0': must be at least 1")]),
        Case(name: "bad enum", yaml: yaml([13: "  - { name: a, endpoints: [\"127.0.0.1:9001\"], lb_policy: fastest }"]),
             expected: [("13:58", "lb_policy: invalid value 'fastest': must be one of round_robin, least_request, random, ring_hash, maglev")]),
        Case(name: "bad retry condition", yaml: yaml([11: "                  route: { cluster: a, retry_policy: { retry_on: \"5xx,sometimes\" } }"]),
             expected: [("11:66", "invalid value 'sometimes': must be one of 5xx, gateway-error, connect-failure, reset")]),
        Case(name: "bad coprocessor endpoint", yaml: yaml(appending: ["coprocessors: [{ name: jwt, endpoint: \"tcp://x\" }]"]),
             expected: [("14:39", "coprocessors[0].endpoint: invalid value 'tcp://x': expected unix:/path/to.sock")]),
        Case(name: "YAML syntax error", yaml: yaml([10: "                - match: { prefix: \"/\" "]),
             expected: [("11:19", "YAML syntax error")]),
        Case(name: "duplicate key", yaml: yaml([11: "                  route: { cluster: a, cluster: a }"]),
             expected: [("11:28", "duplicate key 'cluster'")]),
        Case(name: "wrong scalar type", yaml: yaml([13: "  - { name: a, endpoints: [{ address: \"127.0.0.1:1\", weight: heavy }] }"]),
             expected: [("13:62", "weight: expected an integer, found the string 'heavy'")]),
        Case(name: "unknown per-filter override", yaml: yaml([11: "                  route: { cluster: a }\n                  per_filter_config: { rate: {} }"]),
             expected: [("12:40", "unknown field 'rate'")]),
        Case(name: "typo in cluster", yaml: yaml([13: "  - { name: a, endpoints: [\"127.0.0.1:9001\"], lb_polcy: random }"]),
             expected: [("13:47", "clusters[0]: unknown field 'lb_polcy' (did you mean 'lb_policy'?)")]),
        Case(name: "route without action", yaml: yaml([11: "                  route: { timeout: 1s }"]),
             expected: [("11:26", "exactly one of 'cluster', 'cluster_header', 'weighted_clusters' must be given")]),
        Case(name: "admin address used by a listener", yaml: yaml(appending: ["admin: { address: \"127.0.0.1:8080\" }"]),
             expected: [("2:14", "duplicate listener address '127.0.0.1:8080' (first defined at test.yaml:14:19)")]),
        Case(name: "tls on a plain http listener", yaml: yaml([2: "  - address: \"127.0.0.1:8080\"\n    tls: { cert: /c, key: /k }"]),
             expected: [("3:18", "tls.cert: file '/c' does not exist"), ("3:27", "tls.key: file '/k' does not exist"),
                        ("3:5", "tls is only used with protocol https or quic")]),
        Case(name: "quic block on an http listener", yaml: yaml([2: "  - address: \"127.0.0.1:8080\"\n    quic: { retry: always }"]),
             expected: [("3:5", "quic is only used with protocol quic")]),
        Case(name: "bad quic retry mode and window", yaml: yaml([2: "  - address: \"127.0.0.1:8080\"\n    protocol: quic\n    tls: { cert: /c, key: /k }\n    quic: { retry: sometimes, stream_window_bytes: 1KiB }"]),
             expected: [("4:18", "tls.cert: file '/c' does not exist"), ("4:27", "tls.key: file '/k' does not exist"),
                        ("5:20", "retry"), ("5:52", "must be between 16KiB and 64MiB")]),
        Case(name: "duplicate coprocessor", yaml: yaml(appending: ["coprocessors: [{ name: j, endpoint: \"unix:/a\" }, { name: j, endpoint: \"unix:/b\" }]"]),
             expected: [("14:58", "duplicate coprocessor name 'j' (first defined at test.yaml:14:24)")]),
        Case(name: "default_subset fallback without a default", yaml: yaml([13: "  - { name: a, endpoints: [\"127.0.0.1:9001\"], subset: { selectors: [[v]], fallback_policy: default_subset } }"]),
             expected: [("13:55", "missing required field 'default_subset'")]),
        Case(name: "per-filter override of the wrong shape", yaml: yaml([11: "                  route: { cluster: a }\n                  per_filter_config: { buffer: 5 }"]),
             expected: [("12:48", "per_filter_config.buffer: expected a mapping, found the integer 5")]),
        Case(name: "prefix_rewrite on regex route", yaml: yaml([10: "                - match: { regex: \"/.*\" }", 11: "                  route: { cluster: a, prefix_rewrite: \"/x\" }"]),
             expected: [("11:56", "prefix_rewrite needs a 'prefix' or 'path' match")]),
    ]

    func testErrorPositions() {
        for testCase in Self.cases {
            let errors = parseErrors(testCase.yaml)
            let got = errors.map { "\($0.at) \($0.message)" }
            XCTAssertEqual(errors.count, testCase.expected.count, "\(testCase.name): \(got)")
            for (error, (position, fragment)) in zip(errors, testCase.expected) {
                XCTAssertEqual(error.at, position, "\(testCase.name): \(error.message)")
                XCTAssertTrue(error.message.contains(fragment), "\(testCase.name): '\(error.message)' lacks '\(fragment)'")
                XCTAssertEqual(error.location.file, "test.yaml")
            }
        }
    }

    func testDuplicateListenerName() {
        let yaml = Self.yaml([2: "  - address: \"127.0.0.1:8080\"\n    name: edge"], appending: [
            "listeners_2:",
        ]).replacingOccurrences(of: "listeners_2:\n", with: "").replacingOccurrences(of: "clusters:", with: """
              - name: edge
                address: "127.0.0.1:8081"
                filters: [{ type: router, config: { virtual_hosts: [{ name: v, domains: [x], routes: [] }] } }]
            clusters:
            """)
        let errors = parseErrors(yaml)
        XCTAssertEqual(errors.map(\.at), ["13:11"], "\(errors)")
        XCTAssertEqual(errors.first?.kind, .duplicate(what: "listener name", name: "edge", first: SourceLocation(file: "test.yaml", line: 3, column: 11)))
    }

    func testSeveralErrorsInOneFileAreAllReported() {
        let yaml = """
            admin: { address: "127.0.0.1" }
            drain_timeout: soon
            listeners:
              - address: "0.0.0.0:80"
                protocl: http
                filters:
                  - type: router
                    config:
                      virtual_hosts:
                        - name: vh
                          domains: []
                          routes:
                            - match: { prefix: "/", methods: [GET] }
                              route: { cluster: missing, timeout: 1x }
            clusters:
              - name: a
                lb_policy: maglev
                endpoints: [{ address: "127.0.0.1:1", weight: -2 }]
                health_check: { unhealthy_threshold: 0 }
            """
        let errors = parseErrors(yaml)
        XCTAssertEqual(errors.map(\.at), ["1:19", "2:16", "18:51", "19:42", "5:5", "11:24", "14:55", "14:37"],
                       errors.map(\.description).joined(separator: "\n"))
        let description = ConfigErrors(errors).description
        XCTAssertEqual(description.split(separator: "\n").count, errors.count)
        XCTAssertTrue(description.hasPrefix("test.yaml:1:19: admin.address: invalid value '127.0.0.1': expected host:port"), description)
    }
}
