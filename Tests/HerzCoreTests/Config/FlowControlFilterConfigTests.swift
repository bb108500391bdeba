import XCTest
@testable import HerzCore

/// The `flow_control` filter in a listener's chain and in a route's `per_filter_config`.
final class FlowControlFilterConfigTests: XCTestCase {
    private func parse(_ yaml: String) throws -> HerzConfig { try ConfigLoader.parse(yaml: yaml, source: "herz.yaml") }

    private func errors(_ yaml: String) -> [String] {
        do {
            _ = try parse(yaml)
            return []
        } catch let errors as ConfigErrors {
            return errors.errors.map { "\($0.at): \($0.kind)" }
        } catch {
            return ["\(error)"]
        }
    }

    func testTheFilterNeedsTheFlowControlSection() {
        let found = errors(config(filters: "- type: flow_control"))
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertTrue(found[0].hasPrefix("5:15: "), found[0])   // at the filter's type
        XCTAssertTrue(found[0].contains("flow_control"), found[0])
    }

    func testListenerAndRouteConfigs() throws {
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("herz-flow-filter-\(UUID().uuidString).flow")
        try #"rule "r" { match: true limit: { concurrency: 1 } }"#.write(to: rules, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: rules) }
        let loaded = try parse(config(top: "flow_control: { rules: \"\(rules.path)\" }", filters: "- type: flow_control", route: """
        - match: { prefix: "/free" }
          route: { cluster: "a" }
          per_filter_config: { flow_control: { disabled: true } }
        - match: { prefix: "/" }
          route: { cluster: "a" }
        """))
        XCTAssertEqual(loaded.listeners[0].filters, [.flowControl(FlowControlFilterConfig())])
        let routes = loaded.listeners[0].router.virtualHosts[0].routes
        XCTAssertEqual(routes[0].perFilterConfig["flow_control"], .flowControl(FlowControlFilterConfig(disabled: true)))
        XCTAssertNil(routes[1].perFilterConfig["flow_control"])
        XCTAssertTrue(loaded.redactedDump().contains("flow_control"))
        XCTAssertEqual(errors(config(top: "flow_control: { rules: \"\(rules.path)\" }",
                                     filters: "- { type: flow_control, config: { disable: true } }")).count, 1)
    }
}
