import XCTest
@testable import HerzCore

/// One key's lease: what is paid locally, what is asked, how the batch adapts, what is kept.
final class FlowGlobalLeaseTests: XCTestCase {
    private let ms = FlowTest.millisecond
    private let policy = FlowGlobalLease.Policy(cap: 8, lifetimeNanos: 1_000_000_000)

    private func grant(_ n: Int, wait: UInt64 = 0) -> FlowGlobalGrant { FlowGlobalGrant(granted: n, waitNanos: wait, left: 100) }

    /// Queues `ticket`, starts call `id` and returns what it asks for.
    private func ask(_ lease: inout FlowGlobalLease, ticket: UInt64, id: UInt64, cost: Int = 1, now: UInt64) -> (want: Int, need: Int)? {
        XCTAssertEqual(lease.spend(cost: cost, now: now), .ask)
        lease.enqueue(.init(ticket: ticket, cost: cost))
        return lease.startFetch(id: id, now: now)
    }

    func testAColdKeyAsksForOneTokenAndHoldsNothing() {
        var lease = FlowGlobalLease(policy: policy)
        XCTAssertEqual(ask(&lease, ticket: 1, id: 1, now: 0)?.want, 1)
        XCTAssertNil(lease.startFetch(id: 2, now: 0), "one call per key at a time")
        XCTAssertEqual(lease.granted(grant(1), id: 1, now: ms), .init(served: [1]))
        XCTAssertEqual(lease.held(now: ms), 0)
    }

    func testTheBatchDoublesWhileGrantsAreSpentWithinTheirLifetimeUpToTheCap() {
        var lease = FlowGlobalLease(policy: policy)
        var wants: [Int] = []
        for round in 0..<6 {
            let now = UInt64(round) * 10 * ms
            guard let size = ask(&lease, ticket: UInt64(round), id: UInt64(round), now: now) else { return XCTFail("no call") }
            wants.append(size.want)
            _ = lease.granted(grant(size.want), id: UInt64(round), now: now)
            while lease.spend(cost: 1, now: now) == .spent {}
        }
        XCTAssertEqual(wants, [1, 2, 4, 8, 8, 8])
    }

    func testHeldTokensNeverExceedCapMinusOneEvenWhenTheWaitersWentAway() {
        var lease = FlowGlobalLease(policy: FlowGlobalLease.Policy(cap: 4, lifetimeNanos: 1_000_000_000))
        _ = ask(&lease, ticket: 1, id: 1, now: 0)
        XCTAssertEqual(lease.removeWaiter(ticket: 1)?.ticket, 1)
        XCTAssertEqual(lease.granted(grant(10), id: 1, now: 0), .init())
        XCTAssertEqual(lease.held(now: 0), 3)
    }

    func testLeasedTokensExpireAndAnUnspentBatchHalves() {
        var lease = FlowGlobalLease(policy: policy)
        for (id, now) in [(1, 0), (2, ms), (3, 2 * ms)] as [(UInt64, UInt64)] {     // grow to 4
            let size = ask(&lease, ticket: id, id: id, now: now)!
            _ = lease.granted(grant(size.want), id: id, now: now)
            while lease.spend(cost: 1, now: now) == .spent {}
        }
        let size = ask(&lease, ticket: 4, id: 4, now: 3 * ms)!
        XCTAssertEqual(size.want, 8)
        _ = lease.granted(grant(8), id: 4, now: 3 * ms)
        XCTAssertEqual(lease.held(now: 3 * ms), 7)
        XCTAssertEqual(lease.spend(cost: 1, now: 3 * ms + 999 * ms), .spent, "still within its lifetime")
        XCTAssertEqual(lease.held(now: 3 * ms + 1_000 * ms), 0, "dropped after a lifetime")
        XCTAssertEqual(ask(&lease, ticket: 5, id: 5, now: 1_500 * ms)?.want, 4, "expired unspent: half the batch")
        _ = lease.granted(grant(4), id: 5, now: 1_500 * ms)
        XCTAssertFalse(lease.isPristine(now: 3_400 * ms))
        XCTAssertTrue(lease.isPristine(now: 3_500 * ms), "two lifetimes without a grant: as good as new")
    }

    func testAPartialOrEmptyGrantResetsTheBatchAndAnEmptyOneIsCachedUntilTheStoreSaidSo() {
        var lease = FlowGlobalLease(policy: policy)
        for id in 1...3 as ClosedRange<UInt64> {
            let size = ask(&lease, ticket: id, id: id, now: 0)!
            _ = lease.granted(grant(size.want), id: id, now: 0)
            while lease.spend(cost: 1, now: 0) == .spent {}
        }
        XCTAssertEqual(ask(&lease, ticket: 4, id: 4, now: 0)?.want, 8)
        _ = lease.granted(grant(2), id: 4, now: 0)
        XCTAssertEqual(lease.batch, 1, "the bucket is running dry: back to exact calls")
        XCTAssertEqual(lease.spend(cost: 1, now: 0), .spent, "the second granted token")
        XCTAssertEqual(lease.spend(cost: 1, now: 0), .ask)
        lease.enqueue(.init(ticket: 5, cost: 1))
        lease.enqueue(.init(ticket: 6, cost: 1))
        XCTAssertEqual(lease.startFetch(id: 5, now: 0)?.want, 2, "enough for every waiter")
        XCTAssertEqual(lease.granted(grant(0, wait: 30 * ms), id: 5, now: 0),
                       .init(served: [], refused: [.init(ticket: 5, retryAfterNanos: 30 * ms), .init(ticket: 6, retryAfterNanos: 30 * ms)]))
        XCTAssertEqual(lease.spend(cost: 1, now: 10 * ms), .limited(retryAfterNanos: 20 * ms), "refused locally, no call")
        XCTAssertEqual(lease.spend(cost: 1, now: 30 * ms), .ask, "from the moment the store has a token, ask again")
    }

    func testWaitersAreServedInOrderAndALaterRequestNeverJumpsTheQueue() {
        var lease = FlowGlobalLease(policy: policy)
        _ = ask(&lease, ticket: 1, id: 1, cost: 3, now: 0)
        XCTAssertEqual(lease.spend(cost: 1, now: 0), .ask)
        lease.enqueue(.init(ticket: 2, cost: 1))
        XCTAssertEqual(lease.granted(grant(3), id: 1, now: 0), .init(served: [1]), "ticket 2 waits for the next call")
        XCTAssertEqual(lease.startFetch(id: 2, now: 0)?.need, 1)
        XCTAssertEqual(lease.granted(grant(1), id: 2, now: 0), .init(served: [2]))
    }

    func testAFailedCallHandsEveryWaiterBackAndKeepsTheTokens() {
        var lease = FlowGlobalLease(policy: policy)
        _ = ask(&lease, ticket: 1, id: 1, cost: 2, now: 0)
        lease.enqueue(.init(ticket: 2, cost: 1))
        XCTAssertEqual(lease.failed(id: 99), [], "another call's failure is not this one's")
        XCTAssertEqual(lease.failed(id: 1).map(\.ticket), [1, 2])
        XCTAssertNil(lease.fetch)
        XCTAssertTrue(lease.isPristine(now: 0))
    }

    func testReconfiguredKeepsWaitersAndCapsTokens() {
        var lease = FlowGlobalLease(policy: policy)
        _ = ask(&lease, ticket: 1, id: 1, now: 0)
        XCTAssertEqual(lease.removeWaiter(ticket: 1)?.cost, 1)
        _ = lease.granted(grant(8), id: 1, now: 0)
        lease.enqueue(.init(ticket: 2, cost: 1))
        let smaller = lease.reconfigured(to: FlowGlobalLease.Policy(cap: 2, lifetimeNanos: 1_000_000_000), now: 0)
        XCTAssertEqual(smaller.held(now: 0), 1)
        XCTAssertEqual(smaller.waiters.map(\.ticket), [2])
    }
}
