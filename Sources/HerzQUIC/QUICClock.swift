import NIOCore

/// ngtcp2 timestamps are nanoseconds on a monotonic clock; NIO's deadlines use the same clock
/// (uptime nanoseconds), so an ngtcp2 expiry converts to a timer deadline without arithmetic.
enum QUICClock {
    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    static func deadline(_ timestamp: UInt64) -> NIODeadline {
        NIODeadline.uptimeNanoseconds(min(timestamp, UInt64(Int64.max)))
    }
}
