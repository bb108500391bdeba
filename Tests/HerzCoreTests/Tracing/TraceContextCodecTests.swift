import NIOHTTP1
import XCTest
@testable import HerzCore

/// W3C traceparent and B3 (single and multi) parsing, malformed input ignored, and the outgoing
/// headers replacing every incoming trace header.
final class TraceContextCodecTests: XCTestCase {
    func testW3CTraceparentRoundTrips() throws {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let context = try XCTUnwrap(TraceContextCodec.parseTraceparent(value))
        XCTAssertEqual(context.traceIDHigh, 0x4bf9_2f35_77b3_4da6)
        XCTAssertEqual(context.traceIDLow, 0xa3ce_929d_0e0e_4736)
        XCTAssertEqual(context.spanID, 0x00f0_67aa_0ba9_02b7)
        XCTAssertTrue(context.sampled)
        XCTAssertEqual(context.traceparent(parentSpanID: 0x00f0_67aa_0ba9_02b7), value)
        XCTAssertEqual(context.traceparent(parentSpanID: 1), "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-01")
        XCTAssertFalse(try XCTUnwrap(TraceContextCodec.parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")).sampled)
    }

    func testMalformedTraceparentsAreRejected() {
        for bad in [
            "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",                  // missing flags
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",                    // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",                    // zero span id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",                    // version ff
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",                    // upper case
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",                     // short id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",              // v00 with extra field
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            XCTAssertNil(TraceContextCodec.parseTraceparent(bad), bad)
        }
        // A future version may append fields.
        XCTAssertNotNil(TraceContextCodec.parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"))
    }

    func testB3SingleAndMulti() throws {
        let single = try XCTUnwrap(TraceContextCodec.parseB3Single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"))
        XCTAssertEqual(single.traceIDHex, "80f198ee56343ba864fe8b2a57d3eff7")
        XCTAssertEqual(single.spanID, 0xe457_b5a2_e4d8_6bd1)
        XCTAssertTrue(single.sampled)
        let short = try XCTUnwrap(TraceContextCodec.parseB3Single("64fe8b2a57d3eff7-e457b5a2e4d86bd1-0"))
        XCTAssertEqual(short.traceIDHex, "000000000000000064fe8b2a57d3eff7")
        XCTAssertFalse(short.sampled)
        XCTAssertTrue(try XCTUnwrap(TraceContextCodec.parseB3Single("64fe8b2a57d3eff7-e457b5a2e4d86bd1-d")).sampled)
        XCTAssertNil(TraceContextCodec.parseB3Single("1"))  // a bare sampling decision is no context
        XCTAssertNil(TraceContextCodec.parseB3Single("xyz-e457b5a2e4d86bd1-1"))

        var headers = HTTPHeaders([("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"), ("X-B3-SpanId", "e457b5a2e4d86bd1"),
                                   ("X-B3-Sampled", "1")])
        let multi = try XCTUnwrap(TraceContextCodec.extract(from: headers))
        XCTAssertEqual(multi, TraceContext(traceIDHigh: 0x80f1_98ee_5634_3ba8, traceIDLow: 0x64fe_8b2a_57d3_eff7,
                                           spanID: 0xe457_b5a2_e4d8_6bd1, sampled: true))
        headers.replaceOrAdd(name: "x-b3-sampled", value: "0")
        XCTAssertFalse(try XCTUnwrap(TraceContextCodec.extract(from: headers)).sampled)
        headers.add(name: "x-b3-flags", value: "1")
        XCTAssertTrue(try XCTUnwrap(TraceContextCodec.extract(from: headers)).sampled)
    }

    func testTraceparentWinsAndMalformedMeansAbsent() {
        let headers = HTTPHeaders([("traceparent", "garbage"), ("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1")])
        XCTAssertNil(TraceContextCodec.extract(from: headers))
        XCTAssertNil(TraceContextCodec.extract(from: HTTPHeaders([("x-b3-traceid", "64fe8b2a57d3eff7")])))
    }

    func testInjectReplacesEveryIncomingTraceHeader() throws {
        var headers = HTTPHeaders([("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1"), ("x-b3-spanid", "e457b5a2e4d86bd1"),
                                   ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                                   ("tracestate", "old=1"), ("accept", "*/*")])
        var context = try XCTUnwrap(TraceContextCodec.extract(from: headers))
        XCTAssertEqual(context.traceState, "old=1")
        context.traceState = "herz=1,old=1"
        TraceContextCodec.inject(context, parentSpanID: 0xabc, into: &headers)
        XCTAssertEqual(headers["traceparent"], ["00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000abc-01"])
        XCTAssertEqual(headers["tracestate"], ["herz=1,old=1"])
        XCTAssertFalse(headers.contains(name: "b3"))
        XCTAssertFalse(headers.contains(name: "x-b3-spanid"))
        XCTAssertEqual(headers["accept"], ["*/*"])

        // Any case is a trace header; an unsampled context says -00.
        var mixed = HTTPHeaders([("X-B3-TraceId", "4bf92f3577b34da6a3ce929d0e0e4736"), ("TraceParent", "junk"),
                                 ("x-b3-flagz", "1"), ("bb", "1")])
        context.sampled = false
        context.traceState = nil
        TraceContextCodec.inject(context, parentSpanID: 0xFFFF_FFFF_FFFF_FFFF, into: &mixed)
        XCTAssertEqual(mixed["traceparent"], ["00-4bf92f3577b34da6a3ce929d0e0e4736-ffffffffffffffff-00"])
        XCTAssertFalse(mixed.contains(name: "x-b3-traceid"))
        XCTAssertEqual(mixed["x-b3-flagz"], ["1"])
        XCTAssertEqual(mixed["bb"], ["1"])
        XCTAssertFalse(TraceContextCodec.isIncomingHeaderName("x-b3-flagz"))
        XCTAssertTrue(TraceContextCodec.isIncomingHeaderName("X-B3-Flags"))
        XCTAssertEqual(context.traceIDHex, "4bf92f3577b34da6a3ce929d0e0e4736")

        TraceContextCodec.reparent(context, parentSpanID: 0x1234, in: &mixed)
        XCTAssertEqual(mixed["traceparent"], ["00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000001234-00"])
        XCTAssertEqual(mixed.count, 3)
    }

    func testSamplerFollowsSampledParentAndRatio() {
        let parent = TraceContext(traceIDHigh: 1, traceIDLow: UInt64.max, spanID: 1, sampled: true)
        XCTAssertTrue(TraceSampler(ratio: 0).shouldSample(parent: parent, traceIDLow: UInt64.max))
        XCTAssertFalse(TraceSampler(ratio: 0).shouldSample(parent: nil, traceIDLow: 0x1234))
        XCTAssertTrue(TraceSampler(ratio: 1).shouldSample(parent: nil, traceIDLow: UInt64.max))
        var random = SplitMix64(seed: 42)
        let sampler = TraceSampler(ratio: 0.1)
        let sampled = (0..<100_000).filter { _ in sampler.shouldSample(parent: nil, traceIDLow: random.next()) }.count
        XCTAssertEqual(Double(sampled) / 100_000, 0.1, accuracy: 0.01)
        // Deterministic per trace id: every instance decides the same.
        XCTAssertEqual(sampler.shouldSample(parent: nil, traceIDLow: 77), sampler.shouldSample(parent: nil, traceIDLow: 77))
    }
}
