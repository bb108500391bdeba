import XCTest
@testable import HerzCore

/// The documented over-admission bound (``FlowGlobalBound``), property-tested: several limiter
/// instances share one modelled store through random latencies (some beyond the call timeout),
/// random loads and random lease caps; in every window the admissions stay within
/// `burst + rate·(t + d) + H·(N − 1)`, every request is answered exactly once within the timeout,
/// and a saturating load still gets nearly the whole budget.
final class FlowGlobalLeaseBoundTests: XCTestCase {
    private let ms = FlowTest.millisecond

    /// A discrete-event run of `instances` limiters against one store.
    private struct Simulation {
        enum Event {
            case store(instance: Int, fetch: FlowGlobalFetch, answerAt: UInt64?)   // nil: the answer comes too late
            case complete(instance: Int, id: UInt64, result: FlowGlobalFetchResult)
            case sweep(instance: Int)
        }

        var states: [FlowGlobalLimiterState]
        var handles: [FlowGlobalLimitHandle]
        var store: FlowGlobalTestStore
        var random: SplitMix64
        let timeout: UInt64
        /// Each instance's request times, ascending, and how many have arrived.
        var arrivals: [[UInt64]]
        var arrived: [Int]
        var queue: [(at: UInt64, seq: Int, event: Event)] = []
        var seq = 0
        var sweepAt: [UInt64?]
        var asked: [Int: [UInt64: UInt64]] = [:]       // instance → ticket → time asked
        var admitted: [UInt64] = []                     // lease or store admissions, by time
        var fallbacks = 0
        var failures: [String] = []

        init(states: [FlowGlobalLimiterState], handles: [FlowGlobalLimitHandle], store: FlowGlobalTestStore, random: SplitMix64,
             timeout: UInt64, arrivals: [[UInt64]]) {
            self.states = states
            self.handles = handles
            self.store = store
            self.random = random
            self.timeout = timeout
            self.arrivals = arrivals
            self.arrived = Array(repeating: 0, count: arrivals.count)
            self.sweepAt = Array(repeating: nil, count: states.count)
        }

        mutating func schedule(_ event: Event, at time: UInt64) {
            seq += 1
            let index = queue.firstIndex { ($0.at, $0.seq) > (time, seq) } ?? queue.endIndex
            queue.insert((time, seq, event), at: index)
        }

        /// The instance whose next request comes first, and when.
        func nextArrival() -> (instance: Int, at: UInt64)? {
            arrivals.indices.compactMap { i in arrived[i] < arrivals[i].count ? (i, arrivals[i][arrived[i]]) : nil }.min { $0.1 < $1.1 }
        }

        mutating func run(until end: UInt64) {
            while true {
                let arrival = nextArrival()
                let eventAt = queue.first?.at
                guard let now = [arrival?.at, eventAt].compactMap({ $0 }).min(), now <= end else { return }
                if let arrival, arrival.at == now, eventAt.map({ arrival.at < $0 }) ?? true {
                    arrived[arrival.instance] += 1
                    let i = arrival.instance
                    switch states[i].acquire(handles[i], key: "k", now: now) {
                    case .decided(let decision): record(decision, instance: i, ticket: nil, now: now)
                    case .waiting(let ticket, let fetch):
                        asked[i, default: [:]][ticket] = now
                        if let fetch { send(fetch, instance: i, now: now) }
                    }
                    scheduleSweep(i, now: now)
                    continue
                }
                let (_, _, event) = queue.removeFirst()
                switch event {
                case .store(let i, let fetch, let answerAt):
                    let grant = store.run(fetch, now: now)
                    if let answerAt { schedule(.complete(instance: i, id: fetch.id, result: .granted(grant)), at: answerAt) }
                case .complete(let i, let id, let result):
                    perform(states[i].fetchCompleted(id, result, now: now), instance: i, now: now)
                    scheduleSweep(i, now: now)
                case .sweep(let i):
                    guard sweepAt[i] == now else { continue }
                    sweepAt[i] = nil
                    perform(states[i].expire(now: now), instance: i, now: now)
                    scheduleSweep(i, now: now)
                }
            }
        }

        mutating func scheduleSweep(_ i: Int, now: UInt64) {
            guard let next = states[i].nextDeadline, sweepAt[i].map({ next < $0 }) ?? true else { return }
            sweepAt[i] = max(next, now)
            schedule(.sweep(instance: i), at: max(next, now))
        }

        /// The call reaches the store after `up`, its answer comes back after `down`; when the two
        /// exceed the timeout, the I/O layer reports a timeout at the deadline and drops the answer.
        mutating func send(_ fetch: FlowGlobalFetch, instance: Int, now: UInt64) {
            let slow = random.next(below: 10) == 0
            let up = random.next(below: slow ? 3 * timeout : timeout / 3) + 1
            let down = random.next(below: slow ? 3 * timeout : timeout / 3) + 1
            if up + down <= timeout {
                schedule(.store(instance: instance, fetch: fetch, answerAt: now + up + down), at: now + up)
            } else {
                schedule(.store(instance: instance, fetch: fetch, answerAt: nil), at: now + up)
                schedule(.complete(instance: instance, id: fetch.id, result: .failed(.timeout)), at: now + timeout)
            }
        }

        mutating func perform(_ actions: FlowGlobalActions, instance: Int, now: UInt64) {
            for answer in actions.answers { record(answer.decision, instance: instance, ticket: answer.ticket, now: now) }
            for fetch in actions.fetches { send(fetch, instance: instance, now: now) }
        }

        mutating func record(_ decision: FlowGlobalDecision, instance: Int, ticket: UInt64?, now: UInt64) {
            if let ticket {
                guard let since = asked[instance]?.removeValue(forKey: ticket) else {
                    return failures.append("ticket \(ticket) of instance \(instance) answered twice or never asked")
                }
                if now - since > timeout { failures.append("answered after \(now - since) ns (timeout \(timeout))") }
            }
            switch decision {
            case .admit(.lease), .admit(.store): admitted.append(now)
            case .admit(.storeFailure): fallbacks += 1
            default: break
            }
        }
    }

    private func simulation(seed: UInt64, rate: Int, burst: Int, maxBatch: Int, arrivals: [[UInt64]]) -> Simulation? {
        let limit = "{ rate: \(rate)/s, burst: \(burst), scope: global, on_store_failure: allow }"
        let configuration = FlowGlobalConfiguration(maxBatch: maxBatch)
        guard let (state, handle) = FlowTest.globalState(limit, configuration: configuration) else { return nil }
        return Simulation(states: Array(repeating: state, count: arrivals.count), handles: Array(repeating: handle, count: arrivals.count),
                          store: FlowGlobalTestStore(rate: FlowRate(count: rate, periodNanos: FlowTest.second), burst: burst),
                          random: SplitMix64(seed: seed), timeout: configuration.callTimeoutNanos, arrivals: arrivals)
    }

    func testAdmissionsStayWithinTheBoundInEveryWindow() throws {
        var random = SplitMix64(seed: 0x61_0B_A1)
        for round in 0..<24 {
            let instances = Int(random.next(below: 6)) + 1
            let rate = Int(random.next(below: 400)) + 20, burst = Int(random.next(below: 200)) + 1
            let maxBatch = [1, 4, 16, 64][Int(random.next(below: 4))]
            // Bursts shared by every instance (the worst case: leases filled, the bucket refilled
            // while all are quiet, then everyone spends at once), each 1× … 20× the rate, with
            // quiet gaps up to a lease lifetime.
            var bursts: [(start: UInt64, end: UInt64, gap: UInt64)] = []
            var clock: UInt64 = 0
            while clock < 3 * FlowTest.second {
                let length = random.next(below: 200 * ms) + ms
                let gap = UInt64(instances) * FlowTest.second / UInt64(rate * (Int(random.next(below: 20)) + 1))
                bursts.append((clock, clock + length, max(1, gap)))
                clock += length + random.next(below: 1_000 * ms)
            }
            let arrivals = (0..<instances).map { _ in
                bursts.flatMap { burst -> [UInt64] in
                    var times: [UInt64] = []
                    var t = burst.start + random.next(below: burst.gap)
                    while t < burst.end {
                        times.append(t)
                        t += random.next(below: 2 * burst.gap) + 1
                    }
                    return times
                }
            }
            let duration = clock
            var sim = try XCTUnwrap(simulation(seed: random.next(), rate: rate, burst: burst, maxBatch: maxBatch, arrivals: arrivals))
            sim.run(until: duration + FlowTest.second)
            XCTAssertEqual(sim.failures, [], "round \(round)")
            XCTAssertTrue(sim.asked.values.allSatisfy(\.isEmpty), "round \(round): unanswered requests")
            let cap = FlowGlobalConfiguration(maxBatch: maxBatch).leaseCap(burst: burst)
            let times = sim.admitted.sorted()
            var worst = (excess: Int.min, detail: "")
            for i in times.indices {
                for j in i..<times.count {
                    let bound = FlowGlobalBound.maxAdmitted(rate: FlowRate(count: rate, periodNanos: FlowTest.second), burst: burst,
                                                            windowNanos: times[j] - times[i], instances: instances, leaseCap: cap,
                                                            callTimeoutNanos: sim.timeout)
                    let excess = j - i + 1 - bound
                    if excess > worst.excess { worst = (excess, "\(j - i + 1) in \(times[j] - times[i]) ns, bound \(bound)") }
                }
            }
            XCTAssertLessThanOrEqual(worst.excess, 0, "round \(round) (H \(instances), \(rate)/s, burst \(burst), N \(cap)): \(worst.detail)")
        }
    }

    func testASaturatingFleetGetsNearlyTheWholeBudget() throws {
        for (seed, maxBatch) in [(UInt64(1), 1), (2, 16)] {
            let arrivals = (0..<3).map { i in (0..<2_000).map { UInt64($0) * ms + UInt64(i) * 100_000 } }    // 3,000/s in all
            var sim = try XCTUnwrap(simulation(seed: seed, rate: 200, burst: 100, maxBatch: maxBatch, arrivals: arrivals))
            sim.run(until: 3 * FlowTest.second)
            let inTwoSeconds = sim.admitted.filter { $0 < 2 * FlowTest.second }.count
            let budget = 100 + 200 * 2
            XCTAssertLessThanOrEqual(inTwoSeconds, FlowGlobalBound.maxAdmitted(
                rate: FlowRate(count: 200, periodNanos: FlowTest.second), burst: 100, windowNanos: 2 * FlowTest.second, instances: 3,
                leaseCap: FlowGlobalConfiguration(maxBatch: maxBatch).leaseCap(burst: 100), callTimeoutNanos: sim.timeout))
            XCTAssertGreaterThanOrEqual(inTwoSeconds, budget * 85 / 100, "batch \(maxBatch): \(inTwoSeconds) of \(budget)")
            XCTAssertEqual(sim.failures, [])
        }
    }

    /// The worst case the bound describes, built on purpose: every instance holds `N − 1` leased
    /// tokens while the bucket refills to its burst, then all spend at once. The fleet then admits
    /// the bound within a few tokens (it is tight), and never more.
    func testTheBoundIsReachedWhenEveryLeaseIsFullAsTheBucketRefills() throws {
        let rate = FlowRate(count: 400, periodNanos: FlowTest.second), burst = 200, instances = 3
        guard let (state, handle) = FlowTest.globalState("{ rate: 400/s, burst: 200, scope: global, on_store_failure: allow }") else { return }
        var states = Array(repeating: state, count: instances)
        var store = FlowGlobalTestStore(rate: rate, burst: burst)
        let cap = FlowGlobalConfiguration().leaseCap(burst: burst)
        XCTAssertEqual(cap, 16)
        /// One request on instance `i` at `now`; the store answers within 0.1 ms.
        func ask(_ i: Int, now: UInt64) -> FlowGlobalDecision? {
            switch states[i].acquire(handle, key: "k", now: now) {
            case .decided(let decision): return decision
            case .waiting(let ticket, let fetch?):
                let grant = store.run(fetch, now: now)
                return states[i].fetchCompleted(fetch.id, .granted(grant), now: now + 100_000).answers.first { $0.ticket == ticket }?.decision
            case .waiting: return nil
            }
        }
        var now: UInt64 = 0
        for i in 0..<instances {                      // grow each lease until it holds N − 1 right after a grant
            var held = 0
            for _ in 0..<200 where held != cap - 1 {
                now += ms
                _ = ask(i, now: now)
                held = states[i].limits[0].leases.entry(at: .key("k"))?.held(now: now) ?? 0
            }
            XCTAssertEqual(held, cap - 1, "instance \(i)")
        }
        now += 600 * ms                               // the bucket is full again (200 at 400/s: 500 ms); leases live 1 s
        let start = now
        var admitted: [UInt64] = []
        while now < start + 20 * ms {
            for i in 0..<instances where ask(i, now: now)?.isAdmitted == true { admitted.append(now) }
            now += 10_000
        }
        let bound = FlowGlobalBound.maxAdmitted(rate: rate, burst: burst, windowNanos: (admitted.last ?? start) - start,
                                                instances: instances, leaseCap: cap, callTimeoutNanos: 5 * ms)
        XCTAssertLessThanOrEqual(admitted.count, bound)
        XCTAssertGreaterThanOrEqual(admitted.count, bound - 4, "\(admitted.count) admitted, bound \(bound): the bound is tight")
    }
}
