/// The trace a request belongs to, as propagated between services: trace id, the caller's span id,
/// the sampled flag and W3C `tracestate` (passed on verbatim).
///
/// Pure value type. ``TraceContextCodec`` reads it from W3C `traceparent` or B3 (single `b3:` or the
/// `x-b3-*` headers) and writes it as `traceparent`. Parsing is hand-written (about 60 lines) rather
/// than taken from swift-w3c-trace-context: that package covers W3C only (no B3) and would add a
/// dependency to every build for what is a fixed-width hex format.
public struct TraceContext: Sendable, Equatable {
    /// 128-bit trace id (high, low); never all zero.
    public var traceIDHigh: UInt64
    public var traceIDLow: UInt64
    /// The caller's span id (the parent of the span that receives this context); never zero.
    public var spanID: UInt64
    public var sampled: Bool
    /// W3C `tracestate`, forwarded unchanged (nil when absent).
    public var traceState: String?

    public init(traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, sampled: Bool, traceState: String? = nil) {
        self.traceIDHigh = traceIDHigh; self.traceIDLow = traceIDLow
        self.spanID = spanID; self.sampled = sampled; self.traceState = traceState
    }

    /// The trace id as 32 lower-case hex digits.
    public var traceIDHex: String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            TraceHex.write(traceIDHigh, into: buffer, at: 0)
            TraceHex.write(traceIDLow, into: buffer, at: 16)
            return 32
        }
    }

    /// `traceparent` naming `spanID` as the parent (version 00), written in one allocation: every
    /// proxied request carries one upstream, sampled or not.
    public func traceparent(parentSpanID: UInt64) -> String {
        String(unsafeUninitializedCapacity: 55) { buffer in
            let dash = UInt8(ascii: "-"), zero = UInt8(ascii: "0")
            buffer[0] = zero; buffer[1] = zero; buffer[2] = dash
            TraceHex.write(traceIDHigh, into: buffer, at: 3)
            TraceHex.write(traceIDLow, into: buffer, at: 19)
            buffer[35] = dash
            TraceHex.write(parentSpanID, into: buffer, at: 36)
            buffer[52] = dash; buffer[53] = zero; buffer[54] = sampled ? UInt8(ascii: "1") : zero
            return 55
        }
    }
}

/// Fixed-width lower-case hex of 64-bit ids, and its strict inverse.
public enum TraceHex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// 16 lower-case hex digits.
    public static func format(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            write(value, into: buffer, at: 0)
            return 16
        }
    }

    /// Writes the 16 digits of `value` at `buffer[offset...]`.
    static func write(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        for index in 0..<16 { buffer[offset + index] = digits[Int((value >> UInt64(60 - index * 4)) & 0xF)] }
    }

    /// Parses 1...16 hex digits (either case); nil on anything else.
    public static func parse<S: Collection>(_ text: S) -> UInt64? where S.Element == UInt8 {
        guard !text.isEmpty, text.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in text {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    /// A 128-bit id from 16 or 32 hex digits (B3 allows 64-bit trace ids: the high half is zero).
    static func parseTraceID(_ text: Substring.UTF8View) -> (UInt64, UInt64)? {
        switch text.count {
        case 32:
            let mid = text.index(text.startIndex, offsetBy: 16)
            guard let high = parse(text[..<mid]), let low = parse(text[mid...]) else { return nil }
            return (high, low)
        case 16:
            guard let low = parse(text) else { return nil }
            return (0, low)
        default:
            return nil
        }
    }
}
