/// An in-flight cap for `limit: { concurrency: N }`: at most `limit` acquisitions without a
/// matching release. The count never goes negative (a release with nothing in flight is refused
/// and reported), and a lowered limit (reload) keeps the requests already in flight counted.
/// Pure value type owned by its ``FlowKeyedTable``.
public struct FlowConcurrencyLimiter: Sendable, Equatable {
    public let limit: Int
    public private(set) var inFlight: Int = 0

    public init(limit: Int) { self.limit = max(1, limit) }

    public mutating func tryAcquire() -> Bool {
        guard inFlight < limit else { return false }
        inFlight += 1
        return true
    }

    /// `false` (and no change) when nothing is in flight.
    @discardableResult
    public mutating func release() -> Bool {
        guard inFlight > 0 else { return false }
        inFlight -= 1
        return true
    }

    /// Nothing in flight: a fresh limiter would behave the same.
    public var isPristine: Bool { inFlight == 0 }

    public func reconfigured(limit: Int) -> FlowConcurrencyLimiter {
        var limiter = FlowConcurrencyLimiter(limit: limit)
        limiter.inFlight = inFlight
        return limiter
    }
}
