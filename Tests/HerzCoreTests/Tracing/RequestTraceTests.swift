import XCTest
@testable import HerzCore

/// Span bookkeeping of a sampled request and the OTLP protobuf bytes it becomes.
final class RequestTraceTests: XCTestCase {
    func testChildrenHangOffTheServerSpanAndFinishClosesEverything() {
        var ids: UInt64 = 100
        let context = TraceContext(traceIDHigh: 7, traceIDLow: 8, spanID: 0x55, sampled: true)
        let trace = RequestTrace(context: context, serverSpanID: 9, name: "GET r", startUnixNanos: 1000, makeSpanID: { ids += 1; return ids })
        let client = trace.start("upstream c", kind: .client, at: 1100)
        let filter = trace.start("filter f", kind: .internal, at: 1050)
        trace.end(client, attributes: [SpanAttribute("http.response.status_code", 503)], isError: true, at: 1200)
        trace.end(client, at: 9999)  // ending twice changes nothing
        let spans = trace.finish(at: 1300)
        XCTAssertEqual(spans.map(\.name), ["GET r", "upstream c", "filter f"])
        XCTAssertEqual(spans[0].parentSpanID, 0x55)
        XCTAssertEqual(spans[0].kind, .server)
        XCTAssertEqual(spans[1].parentSpanID, 9)
        XCTAssertEqual(spans[1].spanID, client.spanID)
        XCTAssertEqual(spans[1].endUnixNanos, 1200)
        XCTAssertTrue(spans[1].isError)
        XCTAssertEqual(spans[2].spanID, filter.spanID)
        XCTAssertEqual(spans[2].endUnixNanos, 1300)
        XCTAssertEqual(spans[0].endUnixNanos, 1300)
        XCTAssertTrue(spans.allSatisfy { $0.traceIDHigh == 7 && $0.traceIDLow == 8 })
    }

    func testOTLPEncodingOfOneSpan() {
        let span = SpanRecord(name: "s", traceIDHigh: 1, traceIDLow: 2, spanID: 3, parentSpanID: 0, kind: .server,
                              startUnixNanos: 5, endUnixNanos: 6, attributes: [SpanAttribute("k", 1)])
        let bytes = OTLPTraceEncoder.encode([span], serviceName: "svc", scopeName: "h", scopeVersion: "1")
        // ExportTraceServiceRequest{1: ResourceSpans{1: Resource{1: KV{service.name=svc}}, 2: ScopeSpans{1: scope, 2: span}}}
        let spanBytes: [UInt8] = [0x0A, 16, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,   // trace_id
                                  0x12, 8, 0, 0, 0, 0, 0, 0, 0, 3,                            // span_id
                                  0x2A, 1, UInt8(ascii: "s"),                                 // name
                                  0x30, 2,                                                    // kind SERVER
                                  0x39, 5, 0, 0, 0, 0, 0, 0, 0,                               // start (fixed64)
                                  0x41, 6, 0, 0, 0, 0, 0, 0, 0,                               // end
                                  0x4A, 7, 0x0A, 1, UInt8(ascii: "k"), 0x12, 2, 0x18, 1]      // attribute k = int 1
        XCTAssertTrue(bytes.count > spanBytes.count)
        XCTAssertEqual(Array(bytes.suffix(spanBytes.count)), spanBytes)
        XCTAssertEqual(bytes[0], 0x0A)  // field 1, length-delimited
    }

    /// Reads a varint at `offset`; returns the value and the offset after it.
    private func varint(_ bytes: [UInt8], _ offset: Int) -> (UInt64, Int) {
        var value: UInt64 = 0, shift: UInt64 = 0, at = offset
        while true {
            let byte = bytes[at]
            value |= UInt64(byte & 0x7F) << shift
            at += 1
            if byte < 0x80 { return (value, at) }
            shift += 7
        }
    }

    func testLengthPrefixesOfLargeMessagesTakeSeveralBytes() {
        let name = String(repeating: "a", count: 200)
        let spans = (0..<100).map { SpanRecord(name: name, traceIDHigh: 1, traceIDLow: UInt64($0 + 1), spanID: 3, parentSpanID: 0,
                                              kind: .client, startUnixNanos: 5, endUnixNanos: 6, attributes: []) }
        let bytes = OTLPTraceEncoder.encode(spans, serviceName: "svc")
        // ExportTraceServiceRequest.resource_spans (field 1): its length covers the rest exactly.
        XCTAssertEqual(bytes[0], 0x0A)
        let (outer, bodyStart) = varint(bytes, 1)
        XCTAssertEqual(bodyStart, 4, "over 16 KiB: a 3-byte length")
        XCTAssertEqual(Int(outer), bytes.count - bodyStart)
        // Each span's name: tag 0x2A then 200 as a 2-byte varint.
        let marker: [UInt8] = [0x2A, 0xC8, 0x01]
        let found = (0...(bytes.count - 3)).filter { Array(bytes[$0..<$0 + 3]) == marker }.count
        XCTAssertEqual(found, 100)
    }
}
