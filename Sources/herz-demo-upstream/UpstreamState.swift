import NIOCore

/// Server-wide statistics and health, sharded per event loop.
///
/// Guarantees:
/// - `counters(for:)` returns the shard of the caller's event loop; it must be used only there.
/// - `totals`, `resetStatistics` and `setHealthy` visit every loop and complete once all shards
///   have been read or changed, so an admin request answered after their future has completed
///   is visible to every later request on any loop.
///
/// Immutable after `init`, hence `Sendable`; the shards themselves are loop-bound.
struct UpstreamState: Sendable {
    /// Aggregated statistics over all loops.
    struct Totals: Sendable {
        var requests: UInt64 = 0
        var healthzRequests: UInt64 = 0
    }

    private let shards: [ObjectIdentifier: NIOLoopBound<UpstreamCounters>]
    private let loops: [EventLoop]

    init(group: EventLoopGroup) {
        var loops: [EventLoop] = []
        for loop in group.makeIterator() { loops.append(loop) }
        var shards: [ObjectIdentifier: NIOLoopBound<UpstreamCounters>] = [:]
        for loop in loops {
            // `NIOLoopBound` may only be created on its loop.
            shards[ObjectIdentifier(loop)] = try! loop.submit {
                NIOLoopBound(UpstreamCounters(), eventLoop: loop)
            }.wait()
        }
        self.loops = loops
        self.shards = shards
    }

    /// The shard owned by `eventLoop`. Call on `eventLoop` only.
    func counters(for eventLoop: EventLoop) -> UpstreamCounters {
        guard let shard = shards[ObjectIdentifier(eventLoop)] else {
            preconditionFailure("event loop \(eventLoop) is not part of the server's group")
        }
        return shard.value
    }

    /// Sum of all shards, delivered on `eventLoop`.
    func totals(on eventLoop: EventLoop) -> EventLoopFuture<Totals> {
        let reads = loops.map { loop in
            loop.submit { () -> Totals in
                let c = self.counters(for: loop)
                return Totals(requests: c.requests, healthzRequests: c.healthzRequests)
            }
        }
        return EventLoopFuture.reduce(into: Totals(), reads, on: eventLoop) { sum, part in
            sum.requests += part.requests
            sum.healthzRequests += part.healthzRequests
        }
    }

    /// Zeroes every shard's counters.
    func resetStatistics(on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        forEachShard(on: eventLoop) { c in
            c.requests = 0
            c.healthzRequests = 0
        }
    }

    /// Sets what `/healthz` answers, on every loop.
    func setHealthy(_ healthy: Bool, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        forEachShard(on: eventLoop) { c in c.healthy = healthy }
    }

    /// Sets the fault `hello` answers get, on every loop.
    func setFault(_ fault: DemoFault, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        forEachShard(on: eventLoop) { c in c.fault = fault }
    }

    private func forEachShard(
        on eventLoop: EventLoop,
        _ body: @escaping @Sendable (UpstreamCounters) -> Void
    ) -> EventLoopFuture<Void> {
        let changes = loops.map { loop in loop.submit { body(self.counters(for: loop)) } }
        return EventLoopFuture.andAllSucceed(changes, on: eventLoop)
    }
}
