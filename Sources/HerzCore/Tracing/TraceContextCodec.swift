import NIOHTTP1

/// Reads the incoming trace context from request headers and writes the outgoing one.
///
/// Accepted on input, first match wins: W3C `traceparent` (+ `tracestate`), B3 single (`b3`), B3
/// multi (`x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`, `x-b3-flags`). Malformed headers count as
/// absent (a new trace starts), as the W3C spec asks. Upstream, only `traceparent`/`tracestate` are
/// sent: the B3 headers are removed so the upstream never sees two disagreeing contexts.
public enum TraceContextCodec {
    /// Incoming context, or nil when none (or only malformed ones) is present.
    public static func extract(from headers: HTTPHeaders) -> TraceContext? {
        if let value = headers.first(name: "traceparent") {
            guard var context = parseTraceparent(value) else { return nil }
            if let state = headers.first(name: "tracestate"), !state.isEmpty { context.traceState = state }
            return context
        }
        if let value = headers.first(name: "b3") { return parseB3Single(value) }
        if let trace = headers.first(name: "x-b3-traceid"), let span = headers.first(name: "x-b3-spanid") {
            let sampled = headers.first(name: "x-b3-sampled")
            let debug = headers.first(name: "x-b3-flags") == "1"
            return parseB3Multi(traceID: trace, spanID: span, sampled: sampled, debug: debug)
        }
        return nil
    }

    /// W3C trace-context `traceparent`: `VERSION-TRACEID-PARENTID-FLAGS`. Version ff and all-zero
    /// ids are invalid; future versions may append fields after the flags.
    public static func parseTraceparent(_ value: String) -> TraceContext? {
        let fields = value.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard fields.count >= 4, fields[0].count == 2, fields[1].count == 32, fields[2].count == 16, fields[3].count == 2,
              let version = TraceHex.parse(fields[0]), version != 0xFF, version != 0 || fields.count == 4,
              let ids = TraceHex.parseTraceID(fields[1]), ids != (0, 0),
              let span = TraceHex.parse(fields[2]), span != 0,
              let flags = TraceHex.parse(fields[3]),
              isLowerHex(fields[1]), isLowerHex(fields[2]) else { return nil }
        return TraceContext(traceIDHigh: ids.0, traceIDLow: ids.1, spanID: span, sampled: flags & 1 == 1)
    }

    /// B3 single header: `TRACEID-SPANID[-SAMPLED[-PARENTSPANID]]`; a lone `0`/`1`/`d` carries only a
    /// sampling decision, which is not a context to continue (nil).
    public static func parseB3Single(_ value: String) -> TraceContext? {
        let fields = value.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 2 else { return nil }
        let sampled = fields.count >= 3 ? String(fields[2]) : nil
        return parseB3Multi(traceID: String(fields[0]), spanID: String(fields[1]), sampled: sampled,
                            debug: sampled == "d")
    }

    /// B3 multi headers. No sampling decision counts as not sampled by the caller (Herz's own ratio
    /// then decides).
    public static func parseB3Multi(traceID: String, spanID: String, sampled: String?, debug: Bool) -> TraceContext? {
        guard let ids = TraceHex.parseTraceID(Substring(traceID).utf8), ids != (0, 0),
              spanID.utf8.count == 16, let span = TraceHex.parse(spanID.utf8), span != 0 else { return nil }
        let isSampled = debug || sampled == "1" || sampled == "d" || sampled?.lowercased() == "true"
        return TraceContext(traceIDHigh: ids.0, traceIDLow: ids.1, spanID: span, sampled: isSampled)
    }

    /// Headers Herz replaces upstream.
    public static let incomingHeaderNames = ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid",
                                             "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"]

    /// Replaces every trace header in `headers` by `traceparent` (naming `parentSpanID`) and `tracestate`.
    public static func inject(_ context: TraceContext, parentSpanID: UInt64, into headers: inout HTTPHeaders) {
        // One pass to see whether any trace header came in (rarely); only then search per name.
        if headers.contains(where: { isIncomingHeaderName($0.name) }) {
            for name in incomingHeaderNames where headers.contains(name: name) { headers.remove(name: name) }
        }
        headers.add(name: "traceparent", value: context.traceparent(parentSpanID: parentSpanID))
        if let state = context.traceState { headers.add(name: "tracestate", value: state) }
    }

    /// Points the `traceparent` of headers that ``inject(_:parentSpanID:into:)`` wrote at another
    /// parent span (a sampled request's next upstream attempt): one header replaced.
    public static func reparent(_ context: TraceContext, parentSpanID: UInt64, in headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: "traceparent", value: context.traceparent(parentSpanID: parentSpanID))
    }

    /// Whether `name` is one of ``incomingHeaderNames``, in any case (no lower-cased copy made).
    static func isIncomingHeaderName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard bytes.count >= 2, bytes.count <= 17, let first = bytes.first,
              first | 0x20 == UInt8(ascii: "t") || first | 0x20 == UInt8(ascii: "b") || first | 0x20 == UInt8(ascii: "x")
        else { return false }
        return incomingHeaderNames.contains { candidate in
            guard candidate.utf8.count == bytes.count else { return false }
            var at = bytes.startIndex
            for expected in candidate.utf8 {   // candidates are lower case; `| 0x20` lowers A-Z
                let byte = bytes[at]
                guard byte == expected || byte | 0x20 == expected else { return false }
                at = bytes.index(after: at)
            }
            return true
        }
    }

    private static func isLowerHex(_ bytes: Substring.UTF8View) -> Bool {
        !bytes.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "F") }
    }
}
