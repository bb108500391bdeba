import NIOCore

/// A share of requests, held as parts per million so that decisions need no floating point:
/// `percent: 12.5` → 125_000. Always in `0...1_000_000`.
public struct Percentage: Sendable, Equatable, Comparable {
    public static let millionths: UInt64 = 1_000_000
    public let partsPerMillion: UInt64

    public init(partsPerMillion: UInt64) { self.partsPerMillion = Swift.min(partsPerMillion, Self.millionths) }
    /// `percent` in 0...100 (clamped), rounded to the nearest millionth.
    public init(percent: Double) {
        let clamped = Swift.max(0, Swift.min(100, percent))
        self.init(partsPerMillion: UInt64((clamped * 10_000).rounded()))
    }
    public static let all = Percentage(partsPerMillion: millionths)
    public static let none = Percentage(partsPerMillion: 0)

    public var percent: Double { Double(partsPerMillion) / 10_000 }

    /// Whether a draw from a uniform 64-bit random source falls inside this share.
    public func admits(_ random: UInt64) -> Bool {
        if partsPerMillion >= Self.millionths { return true }
        if partsPerMillion == 0 { return false }
        return random % Self.millionths < partsPerMillion
    }

    public static func < (lhs: Percentage, rhs: Percentage) -> Bool { lhs.partsPerMillion < rhs.partsPerMillion }
}

/// One entry of a route's `request_mirror_policies`: a copy of `percent` of the route's requests
/// (head and streamed body) goes to `cluster`, fire-and-forget (docs/traffic-features.md).
public struct RequestMirrorPolicy: Sendable, Equatable {
    /// Body bytes mirrored at most when `max_body_bytes` is not given (64 KiB): a larger body is
    /// not mirrored (or the mirror in flight is abandoned) and counted as skipped.
    public static let defaultMaxBodyBytes = 64 * 1024

    public var cluster: String
    public var percent: Percentage
    public var maxBodyBytes: Int
    public init(cluster: String, percent: Percentage = .all, maxBodyBytes: Int = RequestMirrorPolicy.defaultMaxBodyBytes) {
        self.cluster = cluster; self.percent = percent; self.maxBodyBytes = maxBodyBytes
    }
}

/// `fault`: injects delays and aborts into a share of requests (docs/traffic-features.md). A route
/// replaces the whole config with `per_filter_config: { fault: {...} }` (or turns it off with
/// `disabled: true`).
public struct FaultFilterConfig: Sendable, Equatable {
    /// A fixed delay before the request goes on.
    public struct Delay: Sendable, Equatable {
        public var fixed: TimeAmount
        public var percent: Percentage
        public init(fixed: TimeAmount, percent: Percentage = .all) { self.fixed = fixed; self.percent = percent }
    }
    /// A local answer instead of the upstream's.
    public struct Abort: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// An HTTP status (200...599).
            case http(Int)
            /// A gRPC status (0...16): HTTP 200, `content-type: application/grpc`, `grpc-status` in a
            /// headers-only response.
            case grpc(Int)
        }
        public var kind: Kind
        public var percent: Percentage
        public init(kind: Kind, percent: Percentage = .all) { self.kind = kind; self.percent = percent }
    }

    public var delay: Delay?
    public var abort: Abort?
    /// Honour the `x-herz-fault-*` request headers.
    public var headersEnabled: Bool
    /// Faults in force at once (delays waiting plus aborts being answered) across the filter;
    /// when reached no fault is injected. nil = unlimited.
    public var maxActiveFaults: Int?
    /// Only in a route's override: no fault on this route.
    public var disabled: Bool

    public init(delay: Delay? = nil, abort: Abort? = nil, headersEnabled: Bool = false, maxActiveFaults: Int? = nil, disabled: Bool = false) {
        self.delay = delay; self.abort = abort; self.headersEnabled = headersEnabled
        self.maxActiveFaults = maxActiveFaults; self.disabled = disabled
    }
}
