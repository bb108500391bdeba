import XCTest

@testable import HerzHTTP

final class ReadGateTests: XCTestCase {
    /// Reading resumes only when every reason is gone, and each transition is reported once.
    func testTransitionsAreReportedOnceAndReasonsAreIndependent() {
        var gate = ReadGate()
        XCTAssertEqual(gate.set(.filterWatermark, true), false)      // pause
        XCTAssertNil(gate.set(.peerNotWritable, true))                // still paused
        XCTAssertNil(gate.set(.filterWatermark, true))                // repeated
        XCTAssertNil(gate.set(.filterWatermark, false))               // another reason remains
        XCTAssertEqual(gate.set(.peerNotWritable, false), true)       // resume
        XCTAssertNil(gate.set(.peerNotWritable, false))               // already open
        XCTAssertNil(gate.set(.pendingQueueFull, false))
        XCTAssertEqual(gate.set(.pendingQueueFull, true), false)
    }
}
