/// Weighted random draws over a fixed list of endpoints: cumulative weights and a binary search,
/// O(log n) per draw, no allocation. Internal; rebuilt by its balancer when availability changes.
/// With equal weights it skips the search and draws uniformly in O(1).
struct WeightedSampler {
    private(set) var endpoints: [Int] = []
    /// `cumulative[i]` = Σ weights of endpoints[0...i].
    private var cumulative: [UInt64] = []
    private var uniform = true

    init() {}

    init(endpoints: [Int], weights: [Int]) {
        self.endpoints = endpoints
        cumulative.reserveCapacity(endpoints.count)
        var sum: UInt64 = 0
        for e in endpoints {
            sum += UInt64(weights[e])
            cumulative.append(sum)
            if weights[e] != weights[endpoints[0]] { uniform = false }
        }
    }

    var isEmpty: Bool { endpoints.isEmpty }

    /// A slot in `endpoints`, chosen with probability proportional to its weight.
    func drawSlot(_ random: inout SplitMix64) -> Int {
        if uniform { return Int(random.next(below: UInt64(endpoints.count))) }
        let target = random.next(below: cumulative[cumulative.count - 1])
        // First slot whose cumulative weight exceeds target.
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// An endpoint, chosen with probability proportional to its weight.
    func draw(_ random: inout SplitMix64) -> Int { endpoints[drawSlot(&random)] }

    /// An endpoint not in `excluded`, weighted, assuming one exists: a few rejection rounds, then
    /// a scan from a random slot (bounded by n).
    func draw(_ random: inout SplitMix64, avoiding excluded: [Int]) -> Int {
        for _ in 0..<8 {
            let e = draw(&random)
            if !excluded.contains(e) { return e }
        }
        let start = drawSlot(&random)
        for step in 0..<endpoints.count {
            let e = endpoints[(start + step) % endpoints.count]
            if !excluded.contains(e) { return e }
        }
        return endpoints[start]
    }
}
