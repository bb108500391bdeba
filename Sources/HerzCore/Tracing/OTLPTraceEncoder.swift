/// Encodes spans as an OTLP `ExportTraceServiceRequest` (opentelemetry/proto/collector/trace/v1),
/// the body of an OTLP/HTTP `POST /v1/traces` with `Content-Type: application/x-protobuf`.
///
/// Hand-written protobuf (about 100 lines, the handful of fields Herz sets) instead of swift-protobuf
/// generated messages: zero extra build time in CI (swift-protobuf's runtime alone is a sizeable cold
/// compile on 2 cores) and no generated code to keep in sync. Correctness is checked by the
/// integration test, whose receiver decodes every export with the official `opentelemetry-proto`
/// Python package.
public enum OTLPTraceEncoder {
    /// Field numbers and wire types of the messages used (from the .proto files).
    public static func encode(_ spans: [SpanRecord], serviceName: String, scopeName: String = "herz", scopeVersion: String = "1") -> [UInt8] {
        var resource = ProtoWriter()
        resource.keyValue("service.name", .string(serviceName))
        var scopeSpans = ProtoWriter()
        scopeSpans.message(1) { scope in
            scope.string(1, scopeName)
            scope.string(2, scopeVersion)
        }
        for span in spans { scopeSpans.message(2) { encodeSpan(span, into: &$0) } }
        var resourceSpans = ProtoWriter()
        resourceSpans.lengthDelimited(1, resource.bytes)
        resourceSpans.lengthDelimited(2, scopeSpans.bytes)
        var request = ProtoWriter()
        request.lengthDelimited(1, resourceSpans.bytes)
        return request.bytes
    }

    static func encodeSpan(_ span: SpanRecord, into writer: inout ProtoWriter) {
        writer.lengthDelimited(1, bigEndianBytes(span.traceIDHigh) + bigEndianBytes(span.traceIDLow))
        writer.lengthDelimited(2, bigEndianBytes(span.spanID))
        if let state = span.traceState { writer.string(3, state) }
        if span.parentSpanID != 0 { writer.lengthDelimited(4, bigEndianBytes(span.parentSpanID)) }
        writer.string(5, span.name)
        writer.varintField(6, span.kind.rawValue)
        writer.fixed64(7, span.startUnixNanos)
        writer.fixed64(8, span.endUnixNanos)
        for attribute in span.attributes { writer.message(9) { $0.keyValueBody(attribute.key, attribute.value) } }
        if span.isError { writer.message(15) { $0.varintField(3, 2) } }  // Status { code = STATUS_CODE_ERROR }
    }

    static func bigEndianBytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(56 - $0 * 8)) }
    }
}

/// Minimal protobuf wire-format writer (varint, fixed64, length-delimited).
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }
    mutating func varintField(_ field: Int, _ value: UInt64) { tag(field, 0); varint(value) }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func lengthDelimited(_ field: Int, _ value: [UInt8]) {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { lengthDelimited(field, Array(value.utf8)) }

    mutating func message(_ field: Int, _ body: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        body(&inner)
        lengthDelimited(field, inner.bytes)
    }

    /// `KeyValue` fields (key = 1, value = 2: AnyValue).
    mutating func keyValueBody(_ key: String, _ value: SpanAttribute.Value) {
        string(1, key)
        message(2) { any in
            switch value {
            case .string(let text): any.string(1, text)
            case .bool(let flag): any.varintField(2, flag ? 1 : 0)
            case .int(let number): any.varintField(3, UInt64(bitPattern: number))
            case .double(let number):
                any.tag(4, 1)
                for shift in stride(from: 0, to: 64, by: 8) { any.bytes.append(UInt8(truncatingIfNeeded: number.bitPattern >> UInt64(shift))) }
            }
        }
    }

    /// A repeated `KeyValue` at field 1 (Resource.attributes).
    mutating func keyValue(_ key: String, _ value: SpanAttribute.Value) { message(1) { $0.keyValueBody(key, value) } }
}
