/// The endpoints one balancer serves and which of them are available: the bookkeeping every
/// balancer shares. Internal; owned by its balancer (one event loop).
///
/// Weights below 1 count as 1 (config validation should reject them; a balancer never divides by 0).
struct BalancerMembers {
    /// Cluster size (length of every per-endpoint array the balancer takes).
    let endpointCount: Int
    /// Cluster indices served, ascending.
    let members: [Int]
    /// Weight per cluster index (meaningful for members only): the configured weights, or the
    /// last ``updateWeights(_:)``.
    private(set) var weights: [Int]
    /// Membership per cluster index.
    let isMember: [Bool]
    /// Availability per cluster index (as last given; only members' entries matter).
    private(set) var available: [Bool]
    /// Available members, ascending.
    private(set) var availableMembers: [Int]

    init(endpoints: [EndpointConfig], members: [Int]?, available: [Bool]?) {
        endpointCount = endpoints.count
        let members = members ?? Array(endpoints.indices)
        self.members = members
        weights = endpoints.map { max($0.weight, 1) }
        var isMember = [Bool](repeating: false, count: endpoints.count)
        for m in members { isMember[m] = true }
        self.isMember = isMember
        self.available = available ?? [Bool](repeating: true, count: endpoints.count)
        precondition(self.available.count == endpoints.count, "availability must cover every endpoint")
        availableMembers = []
        recompute()
    }

    /// Stores new availability; returns whether any member's availability changed.
    @discardableResult
    mutating func update(_ available: [Bool]) -> Bool {
        precondition(available.count == endpointCount, "availability must cover every endpoint")
        let changed = members.contains { self.available[$0] != available[$0] }
        self.available = available
        if changed { recompute() }
        return changed
    }

    /// Replaces the weights (dynamic weights); values below 1 count as 1. Returns whether any
    /// member's weight changed. Availability is untouched: an unavailable endpoint stays unpicked
    /// whatever its weight.
    @discardableResult
    mutating func updateWeights(_ weights: [Int]) -> Bool {
        precondition(weights.count == endpointCount, "weights must cover every endpoint")
        let next = weights.map { max($0, 1) }
        let changed = members.contains { self.weights[$0] != next[$0] }
        self.weights = next
        return changed
    }

    private mutating func recompute() {
        availableMembers = members.filter { available[$0] }
    }

    @inline(__always) func isUsable(_ endpoint: Int) -> Bool {
        endpoint >= 0 && endpoint < endpointCount && isMember[endpoint] && available[endpoint]
    }

    /// Whether some available member is not in `excluded` (so a pick can avoid all of them).
    /// O(k²) in the (small) number of excluded endpoints; no allocation.
    func hasAlternative(to excluded: [Int]) -> Bool {
        if excluded.isEmpty { return !availableMembers.isEmpty }
        var excludedUsable = 0
        for (i, e) in excluded.enumerated() where isUsable(e) {
            var duplicate = false
            for j in 0..<i where excluded[j] == e { duplicate = true; break }
            if !duplicate { excludedUsable += 1 }
        }
        return availableMembers.count > excludedUsable
    }
}
