import XCTest
@testable import HerzCore

/// Parses `yaml` expecting success; fails the test with every error otherwise.
func parseOK(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> HerzConfig? {
    do {
        return try ConfigLoader.parse(yaml: yaml, source: "test.yaml")
    } catch {
        XCTFail("unexpected config errors:\n\(error)", file: file, line: line)
        return nil
    }
}

/// Parses `yaml` expecting failure; returns the errors (empty and a test failure if it parsed).
func parseErrors(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [ConfigError] {
    do {
        _ = try ConfigLoader.parse(yaml: yaml, source: "test.yaml")
        XCTFail("config unexpectedly parsed", file: file, line: line)
        return []
    } catch let errors as ConfigErrors {
        return errors.errors
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
        return []
    }
}

/// A minimal valid config with `route` as the single route (indented by the caller's text) and
/// `clusters` appended to the cluster list. `top` (top-level keys, e.g. `coprocessors:`) goes first
/// and `filters` (list items) before the router, each only when given, so the line numbers of the
/// rest do not move.
func config(top: String = "", listenerExtra: String = "", filters: String = "",
            route: String = "- match: { prefix: \"/\" }\n  route: { cluster: \"a\" }",
            clusters: String = "- { name: a, endpoints: [\"127.0.0.1:9001\"] }") -> String {
    func indent(_ text: String, _ n: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { String(repeating: " ", count: n) + $0 }.joined(separator: "\n")
    }
    return (top.isEmpty ? "" : top + "\n") + """
    listeners:
      - address: "127.0.0.1:8080"
    \(indent(listenerExtra, 4))
        filters:
    \(filters.isEmpty ? "" : indent(filters, 6) + "\n")      - type: router
            config:
              virtual_hosts:
                - name: vh
                  domains: ["*"]
                  routes:
    \(indent(route, 16))
    clusters:
    \(indent(clusters, 2))
    """
}

extension ConfigError {
    /// `line:col: message` without the file, for compact assertions.
    var at: String { "\(location.line):\(location.column)" }
}

/// A test case with a fresh directory per test (`directory`), removed afterwards: for configs
/// that name files relative to themselves.
class TemporaryDirectoryTestCase: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herz-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }
}
