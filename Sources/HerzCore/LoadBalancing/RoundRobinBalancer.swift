/// `round_robin`: nginx's *smooth* weighted round robin over the available members.
///
/// Each step every endpoint's `current` grows by its weight, the largest `current` is picked (ties
/// go to the lowest index) and loses the total weight. Weights {5,1,1} give `a a b a c a a`, spread
/// out rather than `a a a a a b c`; equal weights degenerate to plain round robin in index order.
///
/// The sequence is periodic (period = Σweights / gcd), so it is precomputed into a schedule when
/// availability changes and ``pick(_:)`` is O(1): one array read and a cursor step. A schedule longer
/// than ``maximumScheduleLength`` (huge, coprime weights) is not stored; the algorithm then runs
/// live, O(n) per pick. Neither path allocates in ``pick(_:)``.
///
/// Every worker owns its own instance (not thread-safe). By default the cursor starts at a random
/// point of the schedule so that workers do not all send their first requests to the same endpoint.
public final class RoundRobinBalancer: LoadBalancer {
    /// Longest precomputed schedule (entries); longer periods run the algorithm live.
    public static let maximumScheduleLength = 65_536

    private var members: BalancerMembers
    private var random: SplitMix64
    private let randomizeStart: Bool
    /// Precomputed cycle of cluster indices (empty in live mode or when nothing is available).
    private var schedule: [Int] = []
    private var cursor = 0
    /// Live mode state: per available member (parallel to `members.availableMembers`).
    private var live = false
    private var current: [Int] = []
    private var totalWeight = 0

    /// - Parameters:
    ///   - members: cluster indices this balancer serves; nil = all endpoints.
    ///   - available: availability per cluster endpoint; nil = all available.
    ///   - randomizeStart: start at a random point of the cycle (production); false starts at its
    ///     beginning (exact sequences in tests).
    public init(endpoints: [EndpointConfig], members: [Int]? = nil, available: [Bool]? = nil,
                random: SplitMix64 = SplitMix64(), randomizeStart: Bool = true) {
        self.members = BalancerMembers(endpoints: endpoints, members: members, available: available)
        self.random = random
        self.randomizeStart = randomizeStart
        rebuild()
        if randomizeStart, !schedule.isEmpty {
            cursor = Int(self.random.next(below: UInt64(schedule.count)))
        }
    }

    public func pick(_ context: LoadBalancerContext) -> Int? {
        guard !members.availableMembers.isEmpty else { return nil }
        let avoid = !context.excluded.isEmpty && members.hasAlternative(to: context.excluded)
        while true {
            let chosen = next()
            if !avoid || !context.excluded.contains(chosen) { return chosen }
        }
    }

    public func updateAvailability(_ available: [Bool]) {
        if members.update(available) { rebuild() }
    }

    public func updateWeights(_ weights: [Int]) {
        if members.updateWeights(weights) { rebuild() }
    }

    private func next() -> Int {
        if live { return liveStep() }
        let chosen = schedule[cursor]
        cursor += 1
        if cursor == schedule.count { cursor = 0 }
        return chosen
    }

    /// One step of nginx's algorithm over the available members.
    private func liveStep() -> Int {
        let available = members.availableMembers
        var best = 0
        for slot in available.indices {
            current[slot] += members.weights[available[slot]]
            if current[slot] > current[best] { best = slot }
        }
        current[best] -= totalWeight
        return available[best]
    }

    private func rebuild() {
        let available = members.availableMembers
        current = [Int](repeating: 0, count: available.count)
        totalWeight = available.reduce(0) { $0 + members.weights[$1] }
        schedule = []
        guard !available.isEmpty else { live = false; cursor = 0; return }
        let divisor = available.reduce(0) { gcd($0, members.weights[$1]) }
        let period = totalWeight / divisor
        if period > Self.maximumScheduleLength {
            live = true
            return
        }
        live = false
        schedule.reserveCapacity(period)
        for _ in 0..<period { schedule.append(liveStep()) }
        // After a full period every `current` is back to 0.
        cursor = cursor % period
    }
}

func gcd(_ a: Int, _ b: Int) -> Int {
    var (a, b) = (a, b)
    while b != 0 { (a, b) = (b, a % b) }
    return a
}
