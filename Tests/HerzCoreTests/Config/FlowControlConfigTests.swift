import XCTest
@testable import HerzCore

/// `flow_control:` in the YAML: the rules file is read relative to the config, parsed and checked
/// with the config, and its problems are config errors at the rules file's own `line:col`.
final class FlowControlConfigTests: TemporaryDirectoryTestCase {

    /// Writes `rules` as `rules.flow` and a config naming it (relatively) as `herz.yaml`; loads it.
    private func load(rules: String, flowControl: String = "flow_control: { rules: rules.flow }") throws -> HerzConfig {
        try rules.write(to: directory.appendingPathComponent("rules.flow"), atomically: true, encoding: .utf8)
        let yamlPath = directory.appendingPathComponent("herz.yaml").path
        try config(top: flowControl).write(toFile: yamlPath, atomically: true, encoding: .utf8)
        return try ConfigLoader.load(path: yamlPath)
    }

    private func loadErrors(rules: String, flowControl: String = "flow_control: { rules: rules.flow }") -> [ConfigError] {
        do {
            _ = try load(rules: rules, flowControl: flowControl)
            XCTFail("config unexpectedly loaded")
            return []
        } catch let errors as ConfigErrors {
            return errors.errors
        } catch {
            XCTFail("unexpected error \(error)")
            return []
        }
    }

    func testRulesAreLoadedRelativeToTheConfigFile() throws {
        let loaded = try load(rules: """
        rule "orders" {
          match: method == "POST" && path.startsWith("/order")
          limit: { rate: 100/s, burst: 200, key: client_ip }
        }
        cluster "a" { breaker: { error_rate > 50% over 10s, min_requests: 20, open_for: 5s, half_open_probes: 3 } }
        """)
        let flow = try XCTUnwrap(loaded.flowControl)
        XCTAssertEqual(flow.rulesFile, "rules.flow")
        XCTAssertEqual(flow.rulesPath, directory.appendingPathComponent("rules.flow").path)
        XCTAssertEqual(flow.rules.rules.map(\.name), ["orders"])
        XCTAssertEqual(flow.rules.clusters.map(\.name), ["a"])
        XCTAssertNil(flow.store)
        XCTAssertFalse(flow.usesGlobalLimits)
    }

    func testRulesErrorsAreReportedAtTheRulesFilesPositions() {
        let errors = loadErrors(rules: """
        rule "a" {
          match: methd == "GET"
          limit: { rate: 100/x, burst: 10, key: client_ip }
        }
        """)
        let rulesPath = directory.appendingPathComponent("rules.flow").path
        XCTAssertEqual(errors.map(\.description), [
            "\(rulesPath):2:10: unknown identifier 'methd' (did you mean 'method'?); known: method, path, host, client_ip, header, query, metadata, true, false",
            "\(rulesPath):3:18: bad rate '100/x': write COUNT/UNIT, e.g. 100/s, 6000/m, 5/h or 10/250ms",
        ])
    }

    func testAClusterPolicyMustNameAYAMLCluster() {
        let errors = loadErrors(rules: "cluster \"b\" { breaker: { error_rate > 50% over 10s } }\n")
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(errors.first?.at, "1:9")
        XCTAssertEqual(errors.first?.message, "cluster 'b' is not defined in the config (did you mean 'a'?); known clusters: a")
    }

    func testMissingRulesFileIsAnErrorAtTheRulesKey() {
        let yamlPath = directory.appendingPathComponent("herz.yaml").path
        try? config(top: "flow_control:\n  rules: nowhere.flow").write(toFile: yamlPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ConfigLoader.load(path: yamlPath)) { error in
            let errors = (error as? ConfigErrors)?.errors ?? []
            XCTAssertEqual(errors.map(\.at), ["2:10"])
            XCTAssertTrue(errors.first?.message.contains("nowhere.flow") ?? false, "\(errors)")
        }
    }

    func testGlobalLimitsNeedAStore() throws {
        let rules = """
        rule "g" {
          match: true
          limit: { rate: 10/s, burst: 10, key: client_ip, scope: global, on_store_failure: allow }
        }
        """
        let errors = loadErrors(rules: rules)
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors.first?.message.contains("missing required field 'store'") ?? false, "\(errors)")

        let loaded = try load(rules: rules, flowControl: """
        flow_control:
          rules: rules.flow
          store: { address: "127.0.0.1:6380", password: "s3cret", call_timeout: 2ms, max_batch: 4 }
        """)
        let store = try XCTUnwrap(loaded.flowControl?.store)
        XCTAssertEqual(store.address, HostPort(host: "127.0.0.1", port: 6380))
        XCTAssertEqual(store.callTimeout, .milliseconds(2))
        XCTAssertEqual(store.maxBatch, 4)
        XCTAssertTrue(loaded.flowControl?.usesGlobalLimits ?? false)
        let dump = loaded.redactedDump()
        XCTAssertTrue(dump.contains("\"password\": \"<redacted>\""), dump)
        XCTAssertFalse(dump.contains("s3cret"), dump)
    }

    func testStoreValuesOutOfRangeAreErrors() {
        let errors = loadErrors(rules: "", flowControl: """
        flow_control:
          rules: rules.flow
          store: { address: "127.0.0.1:6380", call_timeout: 20s, max_batch: 0 }
        """)
        XCTAssertEqual(errors.map(\.at), ["3:53", "3:69"])
    }
}
