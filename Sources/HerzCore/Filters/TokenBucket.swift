import NIOCore

/// A token bucket: starts full with `capacity` tokens and gains `tokensPerFill` tokens (up to
/// `capacity`) at every whole `fillInterval` elapsed. Pure value type; time is passed in as
/// monotonic nanoseconds, so it is deterministic under test. Not synchronised: the owner
/// (``LocalRateLimitFilterFactory``) guards shared buckets.
public struct TokenBucket: Sendable, Equatable {
    public let capacity: Int
    public let tokensPerFill: Int
    /// Nanoseconds between fills (at least 1).
    public let fillIntervalNanos: UInt64
    public private(set) var tokens: Int
    /// The time of the last whole fill boundary.
    private var lastFill: UInt64

    public init(capacity: Int, tokensPerFill: Int, fillInterval: TimeAmount, now: UInt64) {
        self.capacity = max(0, capacity)
        self.tokensPerFill = max(0, tokensPerFill)
        self.fillIntervalNanos = UInt64(max(1, fillInterval.nanoseconds))
        self.tokens = self.capacity
        self.lastFill = now
    }

    public init(config: LocalRateLimitConfig, now: UInt64) {
        self.init(capacity: config.maxTokens, tokensPerFill: config.tokensPerFill, fillInterval: config.fillInterval, now: now)
    }

    /// Adds the tokens of every whole interval elapsed since the last fill.
    public mutating func refill(now: UInt64) {
        guard now > self.lastFill else { return }
        let fills = (now - self.lastFill) / self.fillIntervalNanos
        guard fills > 0 else { return }
        self.lastFill += fills * self.fillIntervalNanos
        let (gained, overflow) = Int(clamping: fills).multipliedReportingOverflow(by: self.tokensPerFill)
        self.tokens = overflow ? self.capacity : min(self.capacity, self.tokens &+ min(gained, self.capacity))
    }

    /// Takes one token if there is one (after refilling up to `now`).
    public mutating func tryTake(now: UInt64) -> Bool {
        self.refill(now: now)
        guard self.tokens > 0 else { return false }
        self.tokens -= 1
        return true
    }

    /// Whole seconds until the next fill adds a token, rounded up, at least 1 (for `retry-after`).
    public func retryAfter(now: UInt64) -> Int {
        let elapsed = now > self.lastFill ? (now - self.lastFill) % self.fillIntervalNanos : 0
        let remaining = self.fillIntervalNanos - elapsed
        let seconds = (remaining + 999_999_999) / 1_000_000_000
        return max(1, Int(clamping: seconds))
    }
}
