import NIOHTTP1

/// What happens to an HTTP/3 request whose head arrived in 0-RTT data (RFC 8470): early data can be
/// replayed by an attacker, so only methods that are safe to repeat are forwarded — marked with
/// `Early-Data: 1` so the origin can answer 425 itself — and the rest are answered 425 Too Early
/// (the client repeats them after the handshake).
public enum QUICEarlyDataDecision: Equatable, Sendable {
    /// Not early data: forward unchanged.
    case forward
    /// Early data with a safe method: forward with `Early-Data: 1`.
    case forwardMarked
    /// Early data with any other method: answer 425 without forwarding.
    case tooEarly

    public static func decide(method: HTTPMethod, inEarlyData: Bool) -> QUICEarlyDataDecision {
        guard inEarlyData else { return .forward }
        switch method {
        case .GET, .HEAD, .OPTIONS: return .forwardMarked
        default: return .tooEarly
        }
    }
}

/// The ClientHellos that carried early data within the anti-replay window (GnuTLS' anti-replay
/// database): a second sighting of one is a replay, and its early data is refused. Bounded: when
/// full of unexpired entries, further early data is refused too (the connections still complete
/// with 1-RTT), so an attacker flooding ClientHellos costs memory ≤ `capacity` entries, never a
/// replayed request. Pure; its owner serialises access.
public struct QUICReplayCache: Sendable {
    public let capacity: Int
    private var expiries: [[UInt8]: Int64] = [:]

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { expiries.count }

    /// Records `key` until `expiresAt` (seconds, the clock of `now`). Returns false when the key is
    /// already recorded and unexpired (a replay) or there is no room.
    public mutating func insert(_ key: [UInt8], expiresAt: Int64, now: Int64) -> Bool {
        if let expiry = expiries[key], expiry > now { return false }
        if expiries.count >= capacity {
            expiries = expiries.filter { $0.value > now }
            if expiries.count >= capacity { return false }
        }
        expiries[key] = expiresAt
        return true
    }
}
