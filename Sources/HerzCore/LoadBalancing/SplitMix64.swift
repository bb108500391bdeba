/// A small, fast, seedable pseudo-random generator (Steele, Lea & Flood's SplitMix64) for load
/// balancing decisions: start offsets, random picks, power-of-two choices, keyless hashing.
///
/// Not cryptographic. A value type: each balancer owns its own copy, so a balancer (owned by one
/// event loop) draws numbers without locks or shared state. Production seeds it from the system
/// generator (``init()``); tests pass a fixed seed and get the same sequence every run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    /// Seeded from the system's random number generator.
    public init() {
        var system = SystemRandomNumberGenerator()
        self.state = system.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `0..<bound` (`bound > 0`), without modulo bias (Lemire's method).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }
}
