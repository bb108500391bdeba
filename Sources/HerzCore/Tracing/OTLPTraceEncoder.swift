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
        var request = ProtoWriter()
        request.bytes.reserveCapacity(256 + spans.count * 256)
        request.message(1) { resourceSpans in                                    // ResourceSpans
            resourceSpans.message(1) { $0.keyValue("service.name", .string(serviceName)) }   // Resource
            resourceSpans.message(2) { scopeSpans in                             // ScopeSpans
                scopeSpans.message(1) { scope in
                    scope.string(1, scopeName)
                    scope.string(2, scopeVersion)
                }
                for span in spans { scopeSpans.message(2) { encodeSpan(span, into: &$0) } }
            }
        }
        return request.bytes
    }

    static func encodeSpan(_ span: SpanRecord, into writer: inout ProtoWriter) {
        writer.bigEndianID(1, span.traceIDHigh, span.traceIDLow)
        writer.bigEndianID(2, span.spanID)
        if let state = span.traceState { writer.string(3, state) }
        if span.parentSpanID != 0 { writer.bigEndianID(4, span.parentSpanID) }
        writer.string(5, span.name)
        writer.varintField(6, span.kind.rawValue)
        writer.fixed64(7, span.startUnixNanos)
        writer.fixed64(8, span.endUnixNanos)
        for attribute in span.attributes { writer.message(9) { $0.keyValueBody(attribute.key, attribute.value) } }
        if span.isError { writer.message(15) { $0.varintField(3, 2) } }  // Status { code = STATUS_CODE_ERROR }
    }
}

/// Minimal protobuf wire-format writer (varint, fixed64, length-delimited) into one growing
/// buffer: a nested message is written in place behind a one-byte length, patched afterwards (and
/// widened, one move, when the message reached 128 bytes), so encoding a batch allocates only the
/// buffer itself.
struct ProtoWriter {
    var bytes: [UInt8] = []

    /// Writes whole groups of bytes with one `append` each (a byte-at-a-time append checks the
    /// array's uniqueness every time, which dominated encoding).
    mutating func varint(_ value: UInt64) {
        guard value >= 0x80 else { return bytes.append(UInt8(value)) }
        var scratch: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            var value = value, count = 0
            while value >= 0x80 {
                raw[count] = UInt8(value & 0x7F) | 0x80
                value >>= 7
                count += 1
            }
            raw[count] = UInt8(value)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[..<(count + 1)]))
        }
    }

    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }
    mutating func varintField(_ field: Int, _ value: UInt64) { tag(field, 0); varint(value) }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        littleEndian(value)
    }

    private mutating func littleEndian(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// An OTLP id field: `first` (a span id), or `first` then `second` (a 128-bit trace id), big-endian.
    mutating func bigEndianID(_ field: Int, _ first: UInt64, _ second: UInt64? = nil) {
        tag(field, 2)
        varint(second == nil ? 8 : 16)
        bigEndian(first)
        if let second { bigEndian(second) }
    }

    private mutating func bigEndian(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ field: Int, _ value: String) {
        tag(field, 2)
        varint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    mutating func message(_ field: Int, _ body: (inout ProtoWriter) -> Void) {
        tag(field, 2)
        let slot = bytes.count
        bytes.append(0)   // one byte of length: enough for most messages (< 128 bytes)
        body(&self)
        var length = bytes.count - slot - 1
        var prefixCount = 1
        while length >= 0x80 << (7 * (prefixCount - 1)) { prefixCount += 1 }
        if prefixCount > 1 { bytes.insert(contentsOf: repeatElement(0, count: prefixCount - 1), at: slot + 1) }
        for index in slot..<(slot + prefixCount) {
            bytes[index] = UInt8(length & 0x7F) | (index < slot + prefixCount - 1 ? 0x80 : 0)
            length >>= 7
        }
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
                any.littleEndian(number.bitPattern)
            }
        }
    }

    /// A repeated `KeyValue` at field 1 (Resource.attributes).
    mutating func keyValue(_ key: String, _ value: SpanAttribute.Value) { message(1) { $0.keyValueBody(key, value) } }
}
