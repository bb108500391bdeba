/// The numbers the store's script needs for one global token bucket (`limit: { rate: C/P, burst: B,
/// scope: global }`), in the script's integer units.
///
/// The script keeps the same bucket as ``FlowTokenBucket`` (starts full with `B` tokens, gains `C`
/// per `P` continuously, never holds more than `B`) but runs in Redis, whose Lua numbers are IEEE
/// doubles and whose clock (`TIME`) counts microseconds. So: one token is `P/g` units and the bucket
/// gains `C/g` units per microsecond (`g = gcd(C, P)`, `P` in whole microseconds, a period with a
/// fraction of a microsecond rounded up — a slightly slower rate, never a faster one), and every
/// value the script computes stays an exact integer below 2⁵³.
///
/// Guarantees: ``init(rate:burst:)`` returns nil rather than a bucket whose arithmetic could round;
/// ``idleExpiryMillis`` is at least the time an empty bucket takes to fill, so a bucket that Redis
/// forgets (PEXPIRE) comes back exactly as full as it would have been.
public struct FlowGlobalBucket: Sendable, Hashable {
    /// Largest integer every Lua number (double) holds exactly.
    public static let exactLimit: Int64 = 1 << 53

    public let rate: FlowRate
    public let burst: Int
    /// Units in one token (`P/g`).
    public let unitsPerToken: Int64
    /// Units gained per microsecond (`C/g`).
    public let gainPerMicro: Int64
    /// `burst × unitsPerToken`.
    public let capacity: Int64
    /// How long Redis keeps an untouched bucket: the time to fill from empty, rounded up, plus 1 ms.
    public let idleExpiryMillis: Int64

    /// Nil when `burst` tokens of `rate` do not fit the script's exact arithmetic (an extreme pair
    /// such as `1/24h` with a burst of a billion); ``canRepresent(rate:burst:)`` says so in advance.
    public init?(rate: FlowRate, burst: Int) {
        let periodMicros = Int64(clamping: rate.periodNanos / 1_000 + (rate.periodNanos % 1_000 == 0 ? 0 : 1))
        let count = Int64(rate.count)
        let divisor = Self.gcd(max(1, periodMicros), count)
        let units = max(1, periodMicros) / divisor
        let gain = count / divisor
        let (capacity, overflow) = Int64(max(1, burst)).multipliedReportingOverflow(by: units)
        guard !overflow, capacity <= Self.exactLimit - gain else { return nil }
        self.rate = rate
        self.burst = max(1, burst)
        self.unitsPerToken = units
        self.gainPerMicro = gain
        self.capacity = capacity
        let fillMicros = capacity / gain + (capacity % gain == 0 ? 0 : 1)
        self.idleExpiryMillis = fillMicros / 1_000 + (fillMicros % 1_000 == 0 ? 0 : 1) + 1
    }

    /// Whether a global limit with this rate and burst can be kept in the store.
    public static func canRepresent(rate: FlowRate, burst: Int) -> Bool { FlowGlobalBucket(rate: rate, burst: burst) != nil }

    private static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return max(1, x)
    }
}
