import Foundation
import HerzCore
import NIOCore
import XCTest

@testable import HerzHTTP

/// Not a test by itself: a load generator that `Tests/integration/test_global_limits.py` runs as a
/// separate process (several at once, like several kernels) until the `flow_control` filter lets
/// real kernels do it. Skipped unless `HERZ_FLOW_PROBE_OUT` is set. Environment:
/// `HERZ_FLOW_PROBE_PORT` (Redis), `HERZ_FLOW_PROBE_LIMIT` (a limit block), `HERZ_FLOW_PROBE_LOOPS`
/// (workers, 2), `HERZ_FLOW_PROBE_SECONDS` (2), `HERZ_FLOW_PROBE_INTERVAL_US` (per worker, 2000).
/// Writes a JSON summary to `HERZ_FLOW_PROBE_OUT`: admission times (uptime ns, one clock for every
/// process of the machine), counts by decision, the slowest answer.
final class FlowGlobalProbe: XCTestCase {
    func testProbe() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let out = environment["HERZ_FLOW_PROBE_OUT"], let port = environment["HERZ_FLOW_PROBE_PORT"].flatMap(Int.init) else {
            throw XCTSkip("a load generator for Tests/integration/test_global_limits.py")
        }
        let limit = environment["HERZ_FLOW_PROBE_LIMIT"] ?? "{ rate: 200/s, burst: 100, scope: global, on_store_failure: allow }"
        let loops = environment["HERZ_FLOW_PROBE_LOOPS"].flatMap(Int.init) ?? 2
        let seconds = environment["HERZ_FLOW_PROBE_SECONDS"].flatMap(Int64.init) ?? 2
        let interval = environment["HERZ_FLOW_PROBE_INTERVAL_US"].flatMap(Int64.init) ?? 2_000
        let harness = try FlowGlobalLimiterHarness(limit: limit, port: port, loops: loops)
        let answers = try harness.load(key: "shared", interval: .microseconds(interval), duration: .seconds(seconds)).wait()

        var counts: [String: Int] = [:]
        for answer in answers { counts[Self.label(answer.decision), default: 0] += 1 }
        let summary: [String: Any] = [
            "instances": loops,
            "lease_cap": FlowGlobalConfiguration().leaseCap(burst: harness.limiters[0].snapshot.limits[0].bucket?.burst ?? 1),
            "call_timeout_ns": Int(FlowGlobalConfiguration().callTimeoutNanos),
            "admitted": answers.filter { $0.decision == .admit(.lease) || $0.decision == .admit(.store) }.map { Int($0.at) }.sorted(),
            "fallback_times": answers.filter { if case .storeFailure = $0.decision.basis { return true }; return false }.map { Int($0.at) }.sorted(),
            "counts": counts,
            "answers": answers.count,
            "max_answer_ns": Int(answers.map(\.nanos).max() ?? 0),
        ]
        try JSONSerialization.data(withJSONObject: summary).write(to: URL(fileURLWithPath: out))
    }

    /// `admit/lease`, `limit/store`, `admit/storeFailure.timeout` …
    static func label(_ decision: FlowGlobalDecision) -> String {
        let verdict = decision.isAdmitted ? "admit" : "limit"
        switch decision.basis {
        case .lease: return verdict + "/lease"
        case .store: return verdict + "/store"
        case .storeFailure(let reason): return verdict + "/storeFailure." + reason.rawValue
        case .noSuchLimit: return verdict + "/noSuchLimit"
        }
    }
}
