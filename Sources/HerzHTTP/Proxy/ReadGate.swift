/// Why reading from a peer is paused. Reading resumes only when no reason remains, so independent
/// sources of backpressure (a filter's watermark, a slow upstream, a queue waiting for a connection)
/// never resume each other's pause by mistake.
struct ReadGate {
    struct Reason: OptionSet {
        let rawValue: UInt8
        /// A filter's watermark buffer is over its limit.
        static let filterWatermark = Reason(rawValue: 1 << 0)
        /// The peer we forward to is not writable (its socket buffer is full).
        static let peerNotWritable = Reason(rawValue: 1 << 1)
        /// Request body waits for an upstream connection and the queue reached the buffer limit.
        static let pendingQueueFull = Reason(rawValue: 1 << 2)
    }

    private(set) var reasons: Reason = []

    /// Adds or removes a reason; returns the new reading state if it changed (`false` = pause).
    mutating func set(_ reason: Reason, _ active: Bool) -> Bool? {
        let wasOpen = reasons.isEmpty
        if active { reasons.insert(reason) } else { reasons.remove(reason) }
        let isOpen = reasons.isEmpty
        return wasOpen == isOpen ? nil : isOpen
    }
}
