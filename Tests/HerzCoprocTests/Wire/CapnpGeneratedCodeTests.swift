import Foundation
import XCTest

/// The committed C++ in Sources/CHerzCapnp matches what `capnp compile` makes of schemas/ today.
final class CapnpGeneratedCodeTests: XCTestCase {
    func testGeneratedCodeIsUpToDate() throws {
        try XCTSkipIf(WireTestEnvironment.capnpPath == nil, "capnp not on PATH")
        let script = WireTestEnvironment.repoRoot.appendingPathComponent("scripts/gen-capnp-cpp").path
        let (status, _, errors) = try WireTestEnvironment.run("/bin/bash", [script, "--check"])
        XCTAssertEqual(status, 0, "run scripts/gen-capnp-cpp: \(errors)")
    }
}
