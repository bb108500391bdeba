/// `maglev`: Google's Maglev consistent hashing (Eisenbud et al., NSDI 2016), weighted.
///
/// A lookup table of `tableSize` slots (a prime; default 65537) maps a hash key to an endpoint:
/// ``pick(_:)`` is `table[key % size]`, O(1), no allocation. Each member walks its own permutation
/// of the slots (`offset = XXH64(address, seed 0) % M`, `skip = XXH64(address, seed 1) % (M-1) + 1`)
/// and the members take turns claiming their next free slot; a member of weight `w` takes a turn in
/// `w / max weight` of the rounds, so slot counts follow the weights.
///
/// The table holds only available members and is rebuilt on ``updateAvailability(_:)`` (O(M log M);
/// availability changes are rare). Maglev's property holds: when one of N members goes away, its
/// slots are redistributed and only a small fraction of the others' slots changes owner. Keys
/// already tried (``LoadBalancerContext/excluded``) walk forward to the next slot of another
/// endpoint. A nil hash key picks a random slot.
///
/// Owned by one event loop (not thread-safe). Memory: 4 bytes per slot (256 KiB at 65537).
/// A non-prime size is raised to the next prime, and a table smaller than the member count is
/// raised to fit (config validation should reject both).
public final class MaglevBalancer: LoadBalancer {
    private var members: BalancerMembers
    private var random: SplitMix64
    /// Slot count (prime).
    public let tableSize: Int
    private let offsets: [Int]
    private let skips: [Int]
    /// Owner (cluster index) of each slot; empty when no member is available.
    private var table: [Int32] = []

    /// - Parameters:
    ///   - members: cluster indices this balancer serves; nil = all endpoints.
    ///   - available: availability per cluster endpoint; nil = all available.
    ///   - tableSize: `maglev_table_size`, a prime larger than the member count.
    public init(endpoints: [EndpointConfig], members: [Int]? = nil, available: [Bool]? = nil,
                tableSize: Int = 65537, random: SplitMix64 = SplitMix64()) {
        let members = BalancerMembers(endpoints: endpoints, members: members, available: available)
        self.members = members
        self.random = random
        let size = nextPrime(atLeast: max(tableSize, members.members.count, 2))
        self.tableSize = size
        var offsets = [Int](repeating: 0, count: endpoints.count)
        var skips = [Int](repeating: 1, count: endpoints.count)
        for e in members.members {
            let address = endpoints[e].address.description
            offsets[e] = Int(XXHash64.hash(address, seed: 0) % UInt64(size))
            skips[e] = Int(XXHash64.hash(address, seed: 1) % UInt64(size - 1)) + 1
        }
        self.offsets = offsets
        self.skips = skips
        rebuild()
    }

    public func pick(_ context: LoadBalancerContext) -> Int? {
        guard !table.isEmpty else { return nil }
        let key = context.hashKey ?? random.next()
        let slot = Int(key % UInt64(tableSize))
        let chosen = Int(table[slot])
        guard !context.excluded.isEmpty, context.excluded.contains(chosen),
              members.hasAlternative(to: context.excluded) else { return chosen }
        for step in 1..<tableSize {
            let candidate = Int(table[(slot + step) % tableSize])
            if !context.excluded.contains(candidate) { return candidate }
        }
        return chosen
    }

    public func updateAvailability(_ available: [Bool]) {
        if members.update(available) { rebuild() }
    }

    /// Slots owned by `endpoint` in the current table (for tests and `/clusters`).
    public func slotCount(of endpoint: Int) -> Int {
        table.reduce(0) { $0 + ($1 == Int32(endpoint) ? 1 : 0) }
    }

    private func rebuild() {
        let available = members.availableMembers
        guard !available.isEmpty else { table = []; return }
        let m = tableSize
        var table = [Int32](repeating: -1, count: m)
        var position = available.map { offsets[$0] }
        let maxWeight = available.map { members.weights[$0] }.max()!
        var credit = [Int](repeating: 0, count: available.count)
        var filled = 0
        fill: while true {
            for slot in available.indices {
                let e = available[slot]
                credit[slot] += members.weights[e]
                while credit[slot] >= maxWeight {
                    credit[slot] -= maxWeight
                    var c = position[slot]
                    while table[c] >= 0 { c = (c + skips[e]) % m }
                    table[c] = Int32(e)
                    position[slot] = (c + skips[e]) % m
                    filled += 1
                    if filled == m { break fill }
                }
            }
        }
        self.table = table
    }
}

func nextPrime(atLeast n: Int) -> Int {
    func isPrime(_ x: Int) -> Bool {
        if x < 2 { return false }
        if x % 2 == 0 { return x == 2 }
        var d = 3
        while d * d <= x {
            if x % d == 0 { return false }
            d += 2
        }
        return true
    }
    var candidate = n
    while !isPrime(candidate) { candidate += 1 }
    return candidate
}
