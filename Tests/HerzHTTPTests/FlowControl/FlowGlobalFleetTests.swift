import HerzCore
import NIOCore
import XCTest

@testable import HerzHTTP

/// Two independent limiter groups (two event loop groups of two workers each, as two kernels
/// would have) share one Redis budget under a load of about 10× the rate: together they admit
/// within the documented bound in every window, and nearly the whole budget.
/// (`Tests/integration/test_global_limits.py` does the same with two processes.)
final class FlowGlobalFleetTests: XCTestCase {
    func testTwoKernelsShareOneBudgetWithinTheBound() throws {
        let server = try RedisServerProcess()
        let limit = "{ rate: 200/s, burst: 100, scope: global, on_store_failure: local(1/h, burst: 1) }"
        let kernels = try (0..<2).map { _ in try FlowGlobalLimiterHarness(limit: limit, port: server.port, loops: 2) }
        let seconds: Int64 = 2
        let loads = kernels.map { $0.load(key: "tenant-a", interval: .microseconds(2_000), duration: .seconds(seconds)) }
        let answers = try loads.flatMap { try $0.wait() }

        let admitted = answers.filter { $0.decision == .admit(.lease) || $0.decision == .admit(.store) }.map(\.at).sorted()
        let fallbacks = answers.filter { if case .storeFailure = $0.decision.basis { return true }; return false }
        XCTAssertLessThanOrEqual(fallbacks.filter(\.decision.isAdmitted).count, 4, "timeouts on a loaded machine: local(1/h, burst: 1) per worker")
        let rate = FlowRate(count: 200, periodNanos: 1_000_000_000)
        let cap = FlowGlobalConfiguration().leaseCap(burst: 100)
        var worst = (excess: Int.min, detail: "")
        for i in admitted.indices {
            for j in i..<admitted.count {
                let bound = FlowGlobalBound.maxAdmitted(rate: rate, burst: 100, windowNanos: admitted[j] - admitted[i], instances: 4,
                                                        leaseCap: cap, callTimeoutNanos: FlowGlobalConfiguration().callTimeoutNanos)
                if j - i + 1 - bound > worst.excess { worst = (j - i + 1 - bound, "\(j - i + 1) in \(admitted[j] - admitted[i]) ns, bound \(bound)") }
            }
        }
        XCTAssertLessThanOrEqual(worst.excess, 0, worst.detail)
        let budget = 100 + 200 * Int(seconds)
        XCTAssertGreaterThanOrEqual(admitted.count, budget * 8 / 10, "\(admitted.count) of about \(budget)")
        XCTAssertGreaterThan(answers.count, admitted.count * 3, "the load was well above the rate")
        let slowest = answers.map(\.nanos).max() ?? 0
        XCTAssertLessThan(slowest, 50_000_000, "every answer within the 5 ms timeout plus scheduling on a loaded machine")
    }
}
