/// A bounded memory of call ids the kernel gave up on (deadline passed, stream gone), so that a late
/// answer to one of them is recognised and dropped instead of being taken for a protocol violation.
/// Holds at most `capacity` ids; the oldest are forgotten first.
public struct RecentCallIDs: Sendable {
    public let capacity: Int
    private var members: Set<UInt64> = []
    private var order: [UInt64] = []
    private var next = 0

    public init(capacity: Int = 4096) {
        precondition(capacity > 0)
        self.capacity = capacity
        order.reserveCapacity(capacity)
    }

    public mutating func insert(_ id: UInt64) {
        guard !members.contains(id) else { return }
        if order.count < capacity {
            order.append(id)
        } else {
            members.remove(order[next])
            order[next] = id
            next = (next + 1) % capacity
        }
        members.insert(id)
    }

    /// Whether `id` is remembered; a remembered id is forgotten once matched (one late answer).
    public mutating func take(_ id: UInt64) -> Bool {
        members.remove(id) != nil
    }

    public var count: Int { members.count }
}
