import XCTest
@testable import HerzCore

/// A model of the store for tests without a socket: one exact ``FlowTokenBucket`` per key doing
/// what ``FlowGlobalScript`` does (take up to `want` tokens, at least `need`, else none and say
/// when). The real script is checked against Redis in HerzHTTPTests (FlowRedisScriptTests).
struct FlowGlobalTestStore {
    let rate: FlowRate
    let burst: Int
    private(set) var buckets: [String: FlowTokenBucket] = [:]
    private(set) var grantedTotal = 0

    init(rate: FlowRate, burst: Int) {
        self.rate = rate
        self.burst = burst
    }

    /// Runs the script for `fetch` at `now` (the store's clock).
    mutating func run(_ fetch: FlowGlobalFetch, now: UInt64) -> FlowGlobalGrant {
        let want = Int(fetch.arguments[3])!, need = Int(fetch.arguments[4])!
        var bucket = buckets[fetch.key] ?? FlowTokenBucket(rate: rate, burst: burst, now: now)
        defer { buckets[fetch.key] = bucket }
        guard bucket.tokens(now: now) >= Double(need) else {
            let perToken = Double(rate.periodNanos) / Double(rate.count)
            let missing = Double(need) - bucket.tokens(now: now)
            return FlowGlobalGrant(granted: 0, waitNanos: UInt64((missing * perToken).rounded(.up)), left: Int(bucket.tokens(now: now)))
        }
        var granted = 0
        while granted < want, bucket.acquire(now: now) == .admit { granted += 1 }
        grantedTotal += granted
        return FlowGlobalGrant(granted: granted, waitNanos: 0, left: Int(bucket.tokens(now: now)))
    }
}

extension FlowTest {
    /// A state for one global limit `rule "g"`, and its handle.
    static func globalState(_ limit: String, configuration: FlowGlobalConfiguration = FlowGlobalConfiguration(),
                            file: StaticString = #filePath, line: UInt = #line) -> (FlowGlobalLimiterState, FlowGlobalLimitHandle)? {
        guard let rules = parse("rule \"g\" { match: true\n limit: \(limit) }", file: file, line: line) else { return nil }
        let state = FlowGlobalLimiterState(rules: rules, configuration: configuration, now: 0)
        guard let handle = state.limits.first.flatMap({ state.handle(for: $0.id) }) else {
            XCTFail("no global limit in \(limit)", file: file, line: line)
            return nil
        }
        return (state, handle)
    }
}
