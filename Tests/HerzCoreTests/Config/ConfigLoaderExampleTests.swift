import NIOCore
import XCTest
@testable import HerzCore

/// The ARCHITECTURE.md §5 example, exactly as written there (the not-yet-implemented `jwt_authn`
/// filter removed), and the built-in demo config.
final class ConfigLoaderExampleTests: XCTestCase {
    static let architectureExample = """
        admin: { address: "127.0.0.1:9901" }
        coprocessors:
          - name: jwt
            endpoint: "unix:/run/herz/jwt.sock"
            timeout_ms: 50
            on_failure: fail_closed
        listeners:
          - address: "0.0.0.0:8080"
            protocol: "http"                  # http (HTTP/1.1 + h2c), https (TLS, ALPN h2/http1.1), quic (HTTP/3)
            filters:
              - type: "router"
                config:
                  virtual_hosts:
                    - name: "api-service"
                      domains: ["api.example.com"]
                      routes:
                        - match: { prefix: "/v1" }
                          route: { cluster: "backend-v1" }
        clusters:
          - name: "backend-v1"
            lb_policy: "round_robin"          # round_robin, least_request, random, ring_hash, maglev
            endpoints:
              - { address: "127.0.0.1:9001", weight: 1, metadata: { version: "v1" } }
        """

    func testArchitectureExampleParsesToExpectedModel() throws {
        let config = try ConfigLoader.parse(yaml: Self.architectureExample, source: "herz.yaml")
        let expected = HerzConfig(
            admin: AdminConfig(address: HostPort(host: "127.0.0.1", port: 9901)),
            listeners: [ListenerConfig(
                name: "0.0.0.0:8080", address: HostPort(host: "0.0.0.0", port: 8080), protocol: .http,
                router: RouterConfig(virtualHosts: [VirtualHostConfig(
                    name: "api-service", domains: ["api.example.com"],
                    routes: [RouteEntry(name: "api-service/0", match: RouteMatch(path: .prefix("/v1")), action: .cluster("backend-v1"))])]))],
            clusters: [ClusterConfig(name: "backend-v1", lbPolicy: .roundRobin, endpoints: [
                EndpointConfig(address: HostPort(host: "127.0.0.1", port: 9001), weight: 1, metadata: ["version": "v1"])])],
            coprocessors: [CoprocessorConfig(name: "jwt", endpoint: "unix:/run/herz/jwt.sock", timeout: .milliseconds(50), onFailure: .failClosed)],
            source: "herz.yaml")
        XCTAssertEqual(config, expected)
    }

    func testArchitectureExampleWithAJWTFilterParsesAndItsPlaceholderIsReported() throws {
        func withJWT(_ config: String) -> String {
            Self.architectureExample.replacingOccurrences(of: "      - type: \"router\"", with: """
                      - type: "jwt_authn"
                        config: \(config)
                      - type: "router"
                """)
        }
        let config = try XCTUnwrap(parseOK(withJWT("{ providers: { p: { local_jwks: { filename: p.json } } }, rules: [] }")))
        XCTAssertEqual(config.listeners.first?.filters, [.jwtAuthn(JWTAuthnConfig(providers: [JWTProvider(name: "p", jwksFile: "p.json")]))])
        let errors = parseErrors(withJWT("{ providers: [], rules: [] }"))
        XCTAssertEqual(errors.count, 1, "\(errors)")
        XCTAssertEqual(errors.first?.kind, .wrongType(field: "listeners[0].filters[0].config.providers", expected: "a mapping", found: "a list"))
        XCTAssertEqual(errors.first?.at, "12:30")
    }

    func testBuiltInDemoWithTheExampleCoprocessorFiltersOnlyExampleRoutes() throws {
        let flag = try XCTUnwrap(CoprocessorConfig.parseFlag("example=unix:/tmp/example.sock"))
        let config = try ConfigLoader.parse(yaml: ConfigLoader.builtInDemo(exampleCoprocessor: true), source: "<built-in>",
                                            extraCoprocessors: [flag])
        guard case .coproc(let coproc)? = config.listeners.first?.filters.first else { return XCTFail("no coproc filter first") }
        XCTAssertEqual(coproc.coprocessor, "example")
        XCTAssertEqual(config.coprocessors.map(\.name), ["example"])
        XCTAssertEqual(ConfigLoader.builtInDemo(exampleCoprocessor: false), ConfigLoader.builtInDemo)
    }

    func testBuiltInDemoParses() throws {
        let config = try ConfigLoader.parse(yaml: ConfigLoader.builtInDemo, source: "<built-in>")
        XCTAssertEqual(config.admin?.address, HostPort(host: "127.0.0.1", port: 9901))
        XCTAssertEqual(config.listeners.map(\.address), [HostPort(host: "0.0.0.0", port: 8080)])
        XCTAssertEqual(config.listeners.first?.protocol, .http)
        XCTAssertEqual(config.clusters.map(\.name), ["demo"])
        XCTAssertEqual(config.clusters.first?.endpoints.map(\.address), [HostPort(host: "127.0.0.1", port: 9001)])
        let table = try RouteTable(router: config.listeners[0].router)
        let head = HTTPRequestHeadBuilder.get("/anything", host: "whatever.example")
        XCTAssertEqual(table.match(authority: nil, head: head).map { selectCluster(for: $0.route, headers: head.headers, random: 0) }, "demo")
    }

    func testLoadReadsFileAndNamesItInErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herz-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.yaml").path
        try Self.architectureExample.write(toFile: good, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ConfigLoader.load(path: good).source, good)

        let bad = dir.appendingPathComponent("bad.yaml").path
        try "listeners: 5\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ConfigLoader.load(path: bad)) { error in
            XCTAssertEqual("\(error)", "\(bad):1:12: listeners: expected a list, found the integer 5")
        }
        XCTAssertThrowsError(try ConfigLoader.load(path: dir.appendingPathComponent("missing.yaml").path)) { error in
            guard case .unreadable? = (error as? ConfigErrors)?.errors.first?.kind else { return XCTFail("\(error)") }
        }
    }
}
