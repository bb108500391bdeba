/// What the store answered to one script call (see ``FlowGlobalScript``).
public struct FlowGlobalGrant: Sendable, Equatable {
    /// Tokens taken from the shared bucket for this caller (0, or between `need` and `want`).
    public var granted: Int
    /// When `granted` is 0: nanoseconds until `need` tokens will be in the bucket.
    public var waitNanos: UInt64
    /// Whole tokens left in the bucket after this call.
    public var left: Int

    public init(granted: Int, waitNanos: UInt64, left: Int) {
        self.granted = granted
        self.waitNanos = waitNanos
        self.left = left
    }

    /// The reply `{granted, waitMicros, left}`; nil for any other shape or a negative count (a reply
    /// that does not come from this script is a store failure, never a crash or a guess).
    public init?(reply integers: [Int64]) {
        guard integers.count == 3, integers.allSatisfy({ $0 >= 0 }) else { return nil }
        let (wait, overflow) = UInt64(integers[1]).multipliedReportingOverflow(by: 1_000)
        self.init(granted: Int(clamping: integers[0]), waitNanos: overflow ? .max : wait, left: Int(clamping: integers[2]))
    }
}
