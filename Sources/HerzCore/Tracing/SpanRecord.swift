#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One finished (or running) span as Herz exports it: ids, name, kind, wall-clock times and
/// attributes. A plain value: ``OTLPTraceEncoder`` turns batches of them into OTLP protobuf.
public struct SpanRecord: Sendable, Equatable {
    /// OTLP `Span.SpanKind` values.
    public enum Kind: UInt64, Sendable { case `internal` = 1, server = 2, client = 3 }

    public var name: String
    public var traceIDHigh: UInt64
    public var traceIDLow: UInt64
    public var spanID: UInt64
    /// 0: a root span.
    public var parentSpanID: UInt64
    public var kind: Kind
    public var startUnixNanos: UInt64
    public var endUnixNanos: UInt64
    public var attributes: [SpanAttribute]
    /// OTLP status ERROR (5xx answers, resets, failed attempts); unset otherwise.
    public var isError: Bool
    public var traceState: String?

    public init(name: String, traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, parentSpanID: UInt64, kind: Kind,
                startUnixNanos: UInt64, endUnixNanos: UInt64 = 0, attributes: [SpanAttribute] = [], isError: Bool = false,
                traceState: String? = nil) {
        self.name = name; self.traceIDHigh = traceIDHigh; self.traceIDLow = traceIDLow; self.spanID = spanID
        self.parentSpanID = parentSpanID; self.kind = kind; self.startUnixNanos = startUnixNanos
        self.endUnixNanos = endUnixNanos; self.attributes = attributes; self.isError = isError; self.traceState = traceState
    }
}

/// A span attribute (OTLP `KeyValue` with a scalar `AnyValue`).
public struct SpanAttribute: Sendable, Equatable {
    public enum Value: Sendable, Equatable { case string(String), int(Int64), bool(Bool), double(Double) }
    public var key: String
    public var value: Value
    public init(_ key: String, _ value: Value) { self.key = key; self.value = value }
    public init(_ key: String, _ value: String) { self.init(key, .string(value)) }
    public init(_ key: String, _ value: Int) { self.init(key, .int(Int64(value))) }
}

/// Wall-clock time for span timestamps (OTLP wants Unix-epoch nanoseconds).
public enum TraceClock {
    public static func nowUnixNanos() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
