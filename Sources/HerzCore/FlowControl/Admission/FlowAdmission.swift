/// A token or a concurrency slot a request took from a local limit: what a refusal gives back and
/// what the end of the stream releases (slots only; a token, once the request passed, is spent).
public struct FlowPermit: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case token, slot }

    public let kind: Kind
    /// The limit's flat number in the program the permit was taken under.
    public let limit: Int
    public let slot: FlowKeySlot

    public init(kind: Kind, limit: Int, slot: FlowKeySlot) {
        self.kind = kind
        self.limit = limit
        self.slot = slot
    }
}

/// What a request holds of the local limits, and under which program (permits taken before a
/// reload are released to the limit of the same identity in the new one, if it still exists).
public struct FlowHold: Sendable {
    public let program: FlowProgram
    public internal(set) var permits: [FlowPermit]

    public init(program: FlowProgram, permits: [FlowPermit] = []) {
        self.program = program
        self.permits = permits
    }

    /// The concurrency slots only: what the request keeps until its stream ends.
    public var slots: FlowHold { FlowHold(program: program, permits: permits.filter { $0.kind == .slot }) }

    public var isEmpty: Bool { permits.isEmpty }
}

/// A global limit the request must still pass (local limits all admitted): asked in this order,
/// after the local ones, giving back nothing once granted (docs/flow-control.md, 9.6).
public struct FlowGlobalAsk: Sendable, Equatable {
    /// The rule's number in the program.
    public let rule: Int
    public let id: FlowLimitID
    /// The budget's name (``FlowKey/value(for:)``).
    public let key: String
}

/// Every local limit of every matching rule admitted the request.
public struct FlowGrant: Sendable {
    /// Tokens and slots taken; give them all back with ``FlowAdmissionState/giveBack(_:now:)`` if a
    /// global limit then refuses, else keep ``FlowHold/slots`` until the stream ends.
    public var hold: FlowHold
    /// Hold the request this long before it goes on (tokens reserved by `delay` rules).
    public var delayNanos: UInt64
    /// Rules whose own limits asked for a delay.
    public var delayedRules: [Int]
    /// Shadow rules that would have refused the request.
    public var shadowedRules: [Int]
    public var globals: [FlowGlobalAsk]
}

/// The answer of ``FlowAdmissionState/admit(_:program:startedAt:now:)``.
public enum FlowAdmission: Sendable {
    /// Local limits passed; ask the globals, hold the delay, then let the request through.
    case proceed(FlowGrant)
    /// Rule `rule` refused: a local reply with `status` and `retry-after: retryAfter` seconds (nil:
    /// no header). Nothing is held.
    case reject(rule: Int, status: Int, retryAfter: Int?)
    /// Rule `rule` (`on_limit: delay`) found a concurrency limit full: the request waits as
    /// `waiter` until a slot of that limit and key is released (``FlowAdmissionState/giveBack(_:now:)``
    /// returns the waiters to wake) or `deadline` passes; then ask again. Nothing is held.
    case wait(rule: Int, waiter: UInt64, deadline: UInt64)
    /// The program changed since the request was matched: match it again under the current one.
    case stale
}
