import HerzCore
import Logging
import NIOCore
import XCTest

@testable import HerzHTTP

/// The cluster layer's measurement and merge path without sockets: tallies → window → readings →
/// weights, with ejections read from the SharedCluster, and the registry's reload carry-over.
final class FlowClusterRuntimeTests: XCTestCase {
    private let second: UInt64 = 1_000_000_000
    private let ms: UInt64 = 1_000_000
    private let here = SourceLocation(file: "rules.flow", line: 1, column: 1)

    private func sharedCluster(_ ports: [Int], name: String = "backend") -> SharedCluster {
        SharedCluster(config: ClusterConfig(name: name, endpoints: ports.map { EndpointConfig(address: HostPort(host: "127.0.0.1", port: $0)) }))
    }

    private func tally(latencyMs: [UInt64], failures: Int = 0) -> EndpointTally {
        var tally = EndpointTally()
        for (i, value) in latencyMs.enumerated() { tally.record(latencyNanos: value * ms, failure: i < failures) }
        return tally
    }

    func testTallyP95AndWindowDropsPeriodsThatLeftIt() {
        let t = tally(latencyMs: Array(1...100))
        XCTAssertEqual(Double(t.p95Nanos!) / Double(ms), 95, accuracy: 1)   // two significant digits
        var window = EndpointMeasurementWindow(periodNanos: second, slotCount: 3)
        window.add(tally(latencyMs: [100, 100], failures: 2), now: 10 * second)
        window.add(tally(latencyMs: [1, 1, 1]), now: 11 * second + 500 * ms)
        window.add(tally(latencyMs: [1]), now: 11 * second + 900 * ms)       // same period: summed
        var total = window.total(now: 12 * second)
        XCTAssertEqual([total.requests, total.failures], [6, 2])
        XCTAssertEqual(Double(total.p95Nanos!) / Double(ms), 100, accuracy: 1)
        total = window.total(now: 13 * second)                                // period 10 left the window
        XCTAssertEqual([total.requests, total.failures], [4, 0])
        XCTAssertEqual(Double(total.p95Nanos!) / Double(ms), 1, accuracy: 0.02)
        XCTAssertTrue(window.isEmpty(now: 14 * second))
        XCTAssertNil(EndpointTally().p95Nanos)
    }

    func testTickComputesWeightsFromMergedWorkersAndHoldsEjectedEndpoints() {
        let shared = sharedCluster([9001, 9002, 9003])
        let block = FlowCluster(name: "backend", location: here,
                                weight: FlowWeightPolicy(signal: .latencyP95, base: 100, decay: 0, minimum: 1))
        let runtime = FlowClusterRuntime(cluster: block, shared: shared, timing: FlowClusterTiming())
        let now = 100 * second
        // Two workers' tallies for the same period are summed.
        runtime.merge([("127.0.0.1:9001", tally(latencyMs: [10, 10])), ("127.0.0.1:9002", tally(latencyMs: [40]))], now: now)
        runtime.merge([("127.0.0.1:9001", tally(latencyMs: [10])), ("127.0.0.1:9003", tally(latencyMs: [20, 20]))], now: now)
        let version = runtime.weightsVersion.load(ordering: .relaxed)
        XCTAssertEqual(runtime.tick(now: now).changed, ["127.0.0.1:9002", "127.0.0.1:9003"])
        XCTAssertEqual(runtime.publishedWeights(), ["127.0.0.1:9001": 100, "127.0.0.1:9002": 25, "127.0.0.1:9003": 50])
        XCTAssertEqual(runtime.weightsVersion.load(ordering: .relaxed), version + 1)
        XCTAssertEqual(runtime.view(now: now).readings.map(\.requests), [3, 1, 2])
        // 9001 ejected by outlier detection: held at 100; 9003 now sets the scale.
        shared.endpointStats[0].ejected.store(true, ordering: .relaxed)
        _ = runtime.tick(now: now + second)
        XCTAssertEqual(runtime.publishedWeights(), ["127.0.0.1:9001": 100, "127.0.0.1:9002": 50, "127.0.0.1:9003": 100])
        XCTAssertEqual(runtime.view(now: now + second).readings.map(\.excluded), [true, false, false])
        // Unhealthy by active health check counts the same.
        shared.endpointStats[0].ejected.store(false, ordering: .relaxed)
        shared.setHealthy(1, false)
        _ = runtime.tick(now: now + 2 * second)
        XCTAssertEqual(runtime.publishedWeights(), ["127.0.0.1:9001": 100, "127.0.0.1:9002": 50, "127.0.0.1:9003": 50])
        // Nothing changed: no new version for the workers.
        let steady = runtime.weightsVersion.load(ordering: .relaxed)
        _ = runtime.tick(now: now + 2 * second)
        XCTAssertEqual(runtime.weightsVersion.load(ordering: .relaxed), steady)
    }

    func testRegistryKeepsRuntimeAndOpenBreakerAcrossReloadsThatRecreateTheCluster() {
        let registry = FlowClusterRegistry(logger: Logger(label: "test"))
        let breaker = FlowBreakerPolicy(errorRateThreshold: 0, window: .seconds(1), minRequests: 1, openFor: .seconds(60))
        let block = FlowCluster(name: "backend", location: here, breaker: breaker)
        registry.apply([block], clusters: ["backend": sharedCluster([9001])])
        guard let runtime = registry.runtime(named: "backend") else { return XCTFail("no runtime") }
        let now = FlowClusterRegistry.now()
        guard case .allow(let permit) = runtime.admit(now: now).0 else { return XCTFail("refused") }
        XCTAssertEqual(runtime.record(permit, failure: true, now: now)?.to, .open)
        let version = registry.version.load(ordering: .relaxed)
        // The YAML cluster changed (a new SharedCluster) and the breaker's threshold too: same runtime, still open.
        let changed = FlowCluster(name: "backend", location: here,
                                  breaker: FlowBreakerPolicy(errorRateThreshold: 0.5, window: .seconds(1), openFor: .seconds(60)))
        registry.apply([changed], clusters: ["backend": sharedCluster([9001, 9002])])
        XCTAssertTrue(registry.runtime(named: "backend") === runtime)
        XCTAssertEqual(registry.version.load(ordering: .relaxed), version)
        XCTAssertEqual(runtime.view(now: now).phase, .open)
        XCTAssertEqual(runtime.view(now: now).endpoints.count, 2)
        // The block removed: the runtime goes; added back: a fresh one, closed.
        registry.apply([], clusters: ["backend": sharedCluster([9001])])
        XCTAssertNil(registry.runtime(named: "backend"))
        registry.apply([block], clusters: ["backend": sharedCluster([9001])])
        XCTAssertEqual(registry.runtime(named: "backend")?.view(now: now).phase, .closed)
        XCTAssertEqual(registry.version.load(ordering: .relaxed), version + 2)
    }
}
