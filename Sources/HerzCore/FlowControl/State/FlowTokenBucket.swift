/// A token bucket with continuous refill for `limit: { rate: COUNT/PERIOD, burst: B }`: starts
/// full with `burst` tokens and gains `COUNT` tokens per `PERIOD`, up to `burst`.
///
/// Exact integer arithmetic: one token is `PERIOD/g` units and the bucket gains `COUNT/g` units per
/// nanosecond (`g = gcd(COUNT, PERIOD)`), so no rounding ever admits an extra request. Guarantee
/// (property-tested): over any interval of length `t`, requests admitted without delay number at
/// most `burst + COUNT·t/PERIOD`. Delayed admissions reserve their token now (the level goes into
/// debt) and proceed when the refill has paid it, which keeps the same bound on proceed times.
///
/// Pure value type: time is an argument (monotonic nanoseconds), nothing reads a clock. Owned by
/// whoever owns the ``FlowKeyedTable`` it lives in. Never traps: overflowing products saturate
/// (a full bucket) or refuse (a delay too long to represent).
///
/// (``TokenBucket`` in `Filters/` refills in whole fill intervals and cannot reserve for a delay;
/// the DSL needs both continuous refill and reservations, hence this separate type.)
public struct FlowTokenBucket: Sendable, Equatable {
    /// What a bucket enforces: the rate and the most tokens it holds (at least 1).
    public struct Configuration: Sendable, Hashable {
        public var rate: FlowRate
        public var burst: Int

        public init(rate: FlowRate, burst: Int) {
            self.rate = rate
            self.burst = max(1, burst)
        }
    }

    public let configuration: Configuration
    private let unitsPerToken: Int64
    private let gainPerNano: Int64
    private let capacity: Int64
    /// Units available; negative while delayed admissions are waiting for their tokens.
    private var level: Int64
    private var updatedAt: UInt64

    /// Whether `burst` tokens of `rate` fit the exact arithmetic (with room for debt). The checker
    /// refuses rules for which this is false; ``init(configuration:now:)`` clamps them otherwise.
    public static func canRepresent(rate: FlowRate, burst: Int) -> Bool {
        let units = Self.units(rate)
        let (capacity, overflow) = Int64(max(1, burst)).multipliedReportingOverflow(by: units.perToken)
        return !overflow && capacity <= Int64.max / 4
    }

    /// A full bucket at `now`.
    public init(configuration: Configuration, now: UInt64) {
        let units = Self.units(configuration.rate)
        self.configuration = configuration
        self.unitsPerToken = units.perToken
        self.gainPerNano = units.gainPerNano
        let (capacity, overflow) = Int64(configuration.burst).multipliedReportingOverflow(by: units.perToken)
        self.capacity = overflow ? Int64.max / 4 : min(capacity, Int64.max / 4)
        self.level = self.capacity
        self.updatedAt = now
    }

    public init(rate: FlowRate, burst: Int, now: UInt64) {
        self.init(configuration: Configuration(rate: rate, burst: burst), now: now)
    }

    /// Takes one token. With `maxDelayNanos > 0`, a request that would have a token within that
    /// time reserves it and is told how long to wait.
    public mutating func acquire(now: UInt64, maxDelayNanos: UInt64 = 0) -> FlowTokenDecision {
        advance(to: now)
        if level >= unitsPerToken {
            level -= unitsPerToken
            return .admit
        }
        let wait = waitForToken()
        if maxDelayNanos > 0, wait <= maxDelayNanos {
            let (reserved, overflow) = level.subtractingReportingOverflow(unitsPerToken)
            if !overflow {
                level = reserved
                return .admitAfter(nanos: wait)
            }
        }
        return .limit(retryAfterNanos: wait)
    }

    /// Gives back one token taken at `now` (a later limit refused the same request): the level rises
    /// by one token (paying back a reservation's debt first), never above `burst`.
    public mutating func refund(now: UInt64) {
        advance(to: now)
        let (sum, overflow) = level.addingReportingOverflow(unitsPerToken)
        level = overflow ? capacity : min(capacity, sum)
    }

    /// Nanoseconds until a token is available (0 when one is).
    public func waitNanos(now: UInt64) -> UInt64 {
        var copy = self
        copy.advance(to: now)
        return copy.level >= copy.unitsPerToken ? 0 : copy.waitForToken()
    }

    /// Tokens available at `now` (negative while delayed requests wait); for `/flow`.
    public func tokens(now: UInt64) -> Double {
        var copy = self
        copy.advance(to: now)
        return Double(copy.level) / Double(copy.unitsPerToken)
    }

    /// A full bucket behaves exactly like a fresh one, so it may be dropped without losing anything.
    public func isPristine(now: UInt64) -> Bool {
        var copy = self
        copy.advance(to: now)
        return copy.level >= copy.capacity
    }

    /// The same bucket under a new rate/burst (a reload): it keeps its token count, capped at the
    /// new burst, and its debt.
    public func reconfigured(to configuration: Configuration, now: UInt64) -> FlowTokenBucket {
        guard configuration != self.configuration else { return self }
        var bucket = FlowTokenBucket(configuration: configuration, now: now)
        let scaled = tokens(now: now) * Double(bucket.unitsPerToken)
        bucket.level = scaled >= Double(bucket.capacity) ? bucket.capacity : Int64(max(-Double(Int64.max / 4), scaled))
        return bucket
    }

    // MARK: - Arithmetic

    private mutating func advance(to now: UInt64) {
        guard now > updatedAt else { return }
        let elapsed = Int64(clamping: now - updatedAt)
        updatedAt = now
        let (gain, overflow) = elapsed.multipliedReportingOverflow(by: gainPerNano)
        let (sum, sumOverflow) = level.addingReportingOverflow(gain)
        level = overflow || sumOverflow ? capacity : min(capacity, sum)
    }

    /// Time for the level to reach one token, rounded up; saturates rather than overflowing.
    private func waitForToken() -> UInt64 {
        let (deficit, overflow) = unitsPerToken.subtractingReportingOverflow(level)
        guard !overflow, deficit > 0 else { return overflow ? UInt64.max : 0 }
        return UInt64(deficit / gainPerNano + (deficit % gainPerNano == 0 ? 0 : 1))
    }

    private static func units(_ rate: FlowRate) -> (perToken: Int64, gainPerNano: Int64) {
        let period = Int64(clamping: rate.periodNanos)
        let count = Int64(rate.count)
        let divisor = gcd(period, count)
        return (period / divisor, count / divisor)
    }

    private static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return max(1, x)
    }
}

/// The answer of ``FlowTokenBucket/acquire(now:maxDelayNanos:)``.
public enum FlowTokenDecision: Sendable, Equatable {
    case admit
    /// Admitted with a reserved token; proceed after this many nanoseconds.
    case admitAfter(nanos: UInt64)
    /// Refused; a token will be available in this many nanoseconds (`retry_after: auto`).
    case limit(retryAfterNanos: UInt64)
}
