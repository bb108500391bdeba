import XCTest
@testable import HerzCore

/// `tracing:`: defaults, every field, the dump round trip, and errors at their line.
final class TracingConfigTests: XCTestCase {
    func testDefaultsAndFields() throws {
        let minimal = try XCTUnwrap(parseOK(config(top: "tracing: { otlp_endpoint: \"http://127.0.0.1:4318\" }")))
        XCTAssertEqual(minimal.tracing, TracingConfig(endpoint: HostPort(host: "127.0.0.1", port: 4318)))
        XCTAssertNil(try XCTUnwrap(parseOK(config())).tracing)
        let yaml = config(top: """
            tracing:
              otlp_endpoint: "http://collector:4318/otlp/v1/traces"
              sampling_ratio: 0.01
              service_name: edge
              max_queue_spans: 100
              max_batch_spans: 10
              export_interval: 250ms
              export_timeout: 1s
            """)
        let full = try XCTUnwrap(parseOK(yaml)?.tracing)
        XCTAssertEqual(full, TracingConfig(endpoint: HostPort(host: "collector", port: 4318), path: "/otlp/v1/traces", samplingRatio: 0.01,
                                           serviceName: "edge", maxQueueSpans: 100, maxBatchSpans: 10,
                                           exportInterval: .milliseconds(250), exportTimeout: .seconds(1)))
        let config = try XCTUnwrap(parseOK(yaml))
        XCTAssertEqual(parseOK(config.redactedDump()), config)
    }

    func testErrors() {
        let errors = parseErrors(config(top: "tracing:\n  otlp_endpoint: \"https://x:1\"\n  sampling_ratio: 2\n  bogus: 1"))
        let text = errors.map { "\($0)" }.joined(separator: "\n")
        XCTAssertTrue(text.contains("test.yaml:2:"), text)
        XCTAssertTrue(text.contains("otlp_endpoint"), text)
        XCTAssertTrue(text.contains("bogus"), text)
        XCTAssertTrue(parseErrors(config(top: "tracing: { sampling_ratio: 0.5 }")).map { "\($0)" }.joined().contains("otlp_endpoint"))
        XCTAssertTrue(parseErrors(config(top: "tracing: { otlp_endpoint: \"http://x:1\", sampling_ratio: -1 }"))
            .map { "\($0)" }.joined().contains("sampling_ratio"))
    }
}
