/// `ring_hash`: Ketama-style consistent hashing, laid out as Envoy lays it out.
///
/// Every member gets ring points proportional to its weight: with `scale` chosen so that the
/// lightest member gets at least its share of `minimumRingSize` points, member `e` contributes
/// `scale · wₑ / Σw` points (running totals, so rounding never drifts). Point `i` of a member sits at
/// `XXH64("<address>_<i>", seed 0)`, address as `host:port`. A request's hash key goes to the first
/// point at or after it (wrapping), found by binary search: O(log ring), no allocation.
///
/// Unavailable members are skipped as if their points were gone: equivalent to walking forward to
/// the next available point, but precomputed on ``updateAvailability(_:)`` (a filter of the sorted
/// ring, no rehashing) so a pick stays O(log ring). An endpoint becoming unavailable therefore moves
/// only the keys it owned (~1/N) and no others. Removing it from the *config* also rescales the
/// ring (each survivor gets ⌈min/(N-1)⌉ points instead of ⌈min/N⌉, as in Envoy), which moves a few
/// more keys between survivors (measured ~7% at N = 10). Keys already tried (``LoadBalancerContext/excluded``)
/// walk forward to the next point of another endpoint. A nil hash key picks a random point.
///
/// Owned by one event loop (not thread-safe). Memory: 12 bytes per ring point, twice (all points and
/// the available ones).
public final class RingHashBalancer: LoadBalancer {
    /// Upper bound on ring points, as Envoy's default `maximum_ring_size`.
    public static let maximumRingSize = 8 * 1024 * 1024

    private var members: BalancerMembers
    private var random: SplitMix64
    /// The whole ring, sorted by hash: parallel arrays.
    private let ringHashes: [UInt64]
    private let ringOwners: [Int32]
    /// The points of available members, sorted by hash.
    private var liveHashes: [UInt64] = []
    private var liveOwners: [Int32] = []

    /// Number of points on the whole ring (all members, available or not).
    public var ringSize: Int { ringHashes.count }

    /// - Parameters:
    ///   - members: cluster indices this balancer serves; nil = all endpoints.
    ///   - available: availability per cluster endpoint; nil = all available.
    ///   - minimumRingSize: `ring_hash_minimum_ring_size` (clamped to 1…``maximumRingSize``).
    public init(endpoints: [EndpointConfig], members: [Int]? = nil, available: [Bool]? = nil,
                minimumRingSize: Int = 1024, random: SplitMix64 = SplitMix64()) {
        let members = BalancerMembers(endpoints: endpoints, members: members, available: available)
        self.members = members
        self.random = random
        var points: [(hash: UInt64, owner: Int32)] = []
        let totalWeight = Double(members.members.reduce(0) { $0 + members.weights[$1] })
        if totalWeight > 0 {
            let minRing = Double(min(max(minimumRingSize, 1), Self.maximumRingSize))
            let minNormalized = Double(members.members.map { members.weights[$0] }.min()!) / totalWeight
            let scale = min((minNormalized * minRing).rounded(.up) / minNormalized, Double(Self.maximumRingSize))
            points.reserveCapacity(Int(scale) + members.members.count)
            var current = 0.0
            var target = 0.0
            for e in members.members {
                target += scale * Double(members.weights[e]) / totalWeight
                let address = endpoints[e].address.description
                var i = 0
                while current < target {
                    points.append((XXHash64.hash("\(address)_\(i)"), Int32(e)))
                    i += 1
                    current += 1
                }
            }
        }
        // Sort by hash; ties (astronomically rare) by owner so every worker builds the same ring.
        points.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.owner < $1.owner }
        ringHashes = points.map(\.hash)
        ringOwners = points.map(\.owner)
        rebuildLive()
    }

    public func pick(_ context: LoadBalancerContext) -> Int? {
        guard !liveHashes.isEmpty else { return nil }
        let key = context.hashKey ?? random.next()
        // First point with hash >= key, wrapping to 0.
        var low = 0
        var high = liveHashes.count
        while low < high {
            let mid = (low + high) / 2
            if liveHashes[mid] < key { low = mid + 1 } else { high = mid }
        }
        let start = low == liveHashes.count ? 0 : low
        let chosen = Int(liveOwners[start])
        guard !context.excluded.isEmpty, context.excluded.contains(chosen),
              members.hasAlternative(to: context.excluded) else { return chosen }
        for step in 1..<liveOwners.count {
            let candidate = Int(liveOwners[(start + step) % liveOwners.count])
            if !context.excluded.contains(candidate) { return candidate }
        }
        return chosen
    }

    public func updateAvailability(_ available: [Bool]) {
        if members.update(available) { rebuildLive() }
    }

    private func rebuildLive() {
        liveHashes.removeAll(keepingCapacity: true)
        liveOwners.removeAll(keepingCapacity: true)
        for (hash, owner) in zip(ringHashes, ringOwners) where members.available[Int(owner)] {
            liveHashes.append(hash)
            liveOwners.append(owner)
        }
    }
}
