import XCTest
@testable import HerzCore

final class FlowControlDynamicWeightsTests: XCTestCase {
    private typealias Sample = FlowDynamicWeights.Sample
    private let ms = 1_000_000.0

    func testEqualEndpointsKeepTheBase() {
        var weights = FlowDynamicWeights(policy: FlowWeightPolicy(signal: .latencyP95, base: 80, decay: 0.5, minimum: 5))
        XCTAssertEqual(weights.update([Sample(endpoint: "a", value: 20 * ms), Sample(endpoint: "b", value: 20 * ms)]), ["a": 80, "b": 80])
    }

    func testSlowEndpointLosesWeightGeometricallyAndRegainsIt() {
        var weights = FlowDynamicWeights(policy: FlowWeightPolicy(signal: .latencyP95, base: 80, decay: 0.5, minimum: 5))
        let slow = [Sample(endpoint: "fast", value: 10 * ms), Sample(endpoint: "slow", value: 20 * ms)]
        XCTAssertEqual(weights.update(slow)["slow"], 60)       // 0.5·80 + 0.5·40
        XCTAssertEqual(weights.update(slow)["slow"], 50)
        XCTAssertEqual(weights.update(slow)["slow"], 45)
        for _ in 0..<20 { _ = weights.update(slow) }
        XCTAssertEqual(weights.weight(of: "slow"), 40)        // target: 80 · 10/20
        XCTAssertEqual(weights.weight(of: "fast"), 80)
        let recovered = [Sample(endpoint: "fast", value: 10 * ms), Sample(endpoint: "slow", value: 10 * ms)]
        XCTAssertEqual(weights.update(recovered)["slow"], 60)
        for _ in 0..<20 { _ = weights.update(recovered) }
        XCTAssertEqual(weights.weight(of: "slow"), 80)
    }

    func testMinimumKeepsAnEndpointInRotation() {
        var weights = FlowDynamicWeights(policy: FlowWeightPolicy(signal: .latencyP95, base: 80, decay: 0, minimum: 5))
        XCTAssertEqual(weights.update([Sample(endpoint: "a", value: ms), Sample(endpoint: "b", value: 1_000 * ms)]), ["a": 80, "b": 5])
    }

    func testErrorRateSignal() {
        var weights = FlowDynamicWeights(policy: FlowWeightPolicy(signal: .errorRate, base: 100, decay: 0, minimum: 1))
        let result = weights.update([Sample(endpoint: "ok", value: 0), Sample(endpoint: "some", value: 0.01),
                                     Sample(endpoint: "bad", value: 0.49), Sample(endpoint: "odd", value: 7)])
        XCTAssertEqual(result, ["ok": 100, "some": 50, "bad": 2, "odd": 1])
    }

    func testNoSampleDriftsToBaseAndEndpointsComeAndGo() {
        var weights = FlowDynamicWeights(policy: FlowWeightPolicy(signal: .latencyP95, base: 100, decay: 0.5, minimum: 1))
        _ = weights.update([Sample(endpoint: "a", value: ms), Sample(endpoint: "b", value: 4 * ms)])
        XCTAssertEqual(weights.weight(of: "b"), 63)                                   // 0.5·100 + 0.5·25 = 62.5
        XCTAssertEqual(weights.update([Sample(endpoint: "a", value: ms), Sample(endpoint: "b", value: nil)])["b"], 81)
        XCTAssertEqual(weights.update([Sample(endpoint: "a", value: .nan), Sample(endpoint: "c", value: ms)]), ["a": 100, "c": 100])
        XCTAssertEqual(weights.weight(of: "b"), 100, "a forgotten endpoint starts again at base")
    }

    func testReloadKeepsWeightsForTheSameSignalOnly() {
        var weights = FlowDynamicWeights(policy: FlowWeightPolicy(signal: .latencyP95, base: 100, decay: 0, minimum: 1))
        _ = weights.update([Sample(endpoint: "a", value: ms), Sample(endpoint: "b", value: 2 * ms)])
        XCTAssertEqual(weights.reconfigured(to: FlowWeightPolicy(signal: .latencyP95, base: 40, decay: 0, minimum: 1)).weight(of: "b"), 40,
                       "kept (50), clamped to the new base")
        XCTAssertEqual(weights.reconfigured(to: FlowWeightPolicy(signal: .latencyP95, base: 100, decay: 0.9, minimum: 1)).weight(of: "b"), 50)
        XCTAssertEqual(weights.reconfigured(to: FlowWeightPolicy(signal: .errorRate, base: 100, decay: 0, minimum: 1)).weight(of: "b"), 100)
    }
}
