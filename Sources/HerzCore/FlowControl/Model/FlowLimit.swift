import NIOCore

/// One `limit: { … }` of a rule: a token bucket (`rate`, `burst`) or an in-flight cap
/// (`concurrency`), kept separately per value of ``key``.
public struct FlowLimit: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Admits `burst` at once, then `rate` on average (continuous refill).
        case rate(FlowRate, burst: Int)
        /// At most this many requests of one key in flight at a time.
        case concurrency(Int)
    }

    public var kind: Kind
    public var key: FlowKey
    public var scope: FlowScope
    public var location: SourceLocation

    public init(kind: Kind, key: FlowKey, scope: FlowScope = .local, location: SourceLocation) {
        self.kind = kind
        self.key = key
        self.scope = scope
        self.location = location
    }
}

/// Where a limit's budget lives: in this kernel, or shared by a fleet through a store (Redis).
public enum FlowScope: Sendable, Equatable {
    case local
    case global(onStoreFailure: FlowStoreFailurePolicy)
}

/// What a global limit does while its store is slow or down.
public enum FlowStoreFailurePolicy: Sendable, Equatable {
    case allow
    /// Fall back to a per-kernel token bucket.
    case local(FlowRate, burst: Int)
}

/// `COUNT/PERIOD`: `100/s` is `count: 100, period: 1s`. Both at least 1.
public struct FlowRate: Hashable, Sendable, CustomStringConvertible {
    public let count: Int
    public let periodNanos: UInt64

    /// `count` and `periodNanos` are raised to at least 1.
    public init(count: Int, periodNanos: UInt64) {
        self.count = max(1, count)
        self.periodNanos = max(1, periodNanos)
    }

    /// `100/s`, `6000/m`, `10/250ms`.
    public var description: String {
        let period = DurationParser.format(.nanoseconds(Int64(clamping: periodNanos)))
        let unit = period.hasPrefix("1") && period.dropFirst().allSatisfy(\.isLetter) ? String(period.dropFirst()) : period
        return "\(count)/\(unit)"
    }
}

/// What a limit's budgets are kept per: the values of these attributes (`client_ip`,
/// `header["x-tenant"]`, or a list of several). No attributes: one budget for the whole rule.
/// Requests where an attribute is absent share the budget of the empty value.
public struct FlowKey: Hashable, Sendable, CustomStringConvertible {
    public let attributes: [FlowAttribute]

    public init(_ attributes: [FlowAttribute]) { self.attributes = attributes }

    /// The canonical DSL text: `client_ip`, `[client_ip, header["x-tenant"]]`, or `rule` for none.
    public var description: String {
        switch attributes.count {
        case 0: return "rule"
        case 1: return attributes[0].description
        default: return "[" + attributes.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// The budget's name for `request`: the attributes' texts joined with U+001F (a byte no HTTP
    /// value carries, so two different tuples never collide).
    public func value<R: FlowRequest>(for request: R) -> String {
        switch attributes.count {
        case 0: return ""
        case 1: return String(attributes[0].text(in: request) ?? "")
        default: return attributes.map { String($0.text(in: request) ?? "") }.joined(separator: "\u{1F}")
        }
    }
}
