/// The spans of one sampled request, collected on its event loop and handed to the exporter when
/// the request ends.
///
/// Created only for sampled requests (an unsampled request carries just its ``TraceContext`` for
/// propagation), reachable by filters through ``StreamInfo/trace``. Not thread-safe: owned by the
/// stream's event loop like ``StreamInfo``.
public final class RequestTrace {
    /// Trace id, sampled flag and tracestate of this request (the incoming ones when continued).
    public let context: TraceContext
    /// Span id of the server span (the downstream request); parent of every other span.
    public let serverSpanID: UInt64
    /// Spans, index 0 the server span. Running spans have `endUnixNanos == 0`.
    public private(set) var spans: [SpanRecord] = []
    private var nextID: () -> UInt64

    /// - Parameters:
    ///   - context: the trace to record in (`spanID` = the incoming parent, 0 for a new trace).
    ///   - makeSpanID: a source of random non-zero span ids.
    public init(context: TraceContext, serverSpanID: UInt64, name: String, startUnixNanos: UInt64,
                makeSpanID: @escaping () -> UInt64) {
        self.context = context
        self.serverSpanID = serverSpanID
        self.nextID = makeSpanID
        spans.append(SpanRecord(name: name, traceIDHigh: context.traceIDHigh, traceIDLow: context.traceIDLow,
                                spanID: serverSpanID, parentSpanID: context.spanID, kind: .server,
                                startUnixNanos: startUnixNanos, traceState: context.traceState))
    }

    /// Starts a child of the server span; returns its handle for ``end(_:attributes:isError:)``.
    @discardableResult
    public func start(_ name: String, kind: SpanRecord.Kind, attributes: [SpanAttribute] = [],
                      at start: UInt64 = TraceClock.nowUnixNanos()) -> SpanHandle {
        var id = nextID()
        if id == 0 { id = 1 }
        spans.append(SpanRecord(name: name, traceIDHigh: context.traceIDHigh, traceIDLow: context.traceIDLow,
                                spanID: id, parentSpanID: serverSpanID, kind: kind, startUnixNanos: start,
                                attributes: attributes))
        return SpanHandle(index: spans.count - 1, spanID: id)
    }

    /// Ends a running span (no-op when already ended), adding attributes.
    public func end(_ handle: SpanHandle, attributes: [SpanAttribute] = [], isError: Bool = false,
                    at end: UInt64 = TraceClock.nowUnixNanos()) {
        guard handle.index < spans.count, spans[handle.index].endUnixNanos == 0 else { return }
        spans[handle.index].endUnixNanos = max(end, spans[handle.index].startUnixNanos)
        if spans[handle.index].attributes.isEmpty {
            spans[handle.index].attributes = attributes
        } else {
            spans[handle.index].attributes += attributes
        }
        if isError { spans[handle.index].isError = true }
    }

    /// The server span's handle.
    public var serverSpan: SpanHandle { SpanHandle(index: 0, spanID: serverSpanID) }

    /// Ends every span still running (the request is over) and returns them all.
    public func finish(at end: UInt64 = TraceClock.nowUnixNanos()) -> [SpanRecord] {
        for index in spans.indices where spans[index].endUnixNanos == 0 {
            spans[index].endUnixNanos = max(end, spans[index].startUnixNanos)
        }
        return spans
    }
}

/// Names a span of a ``RequestTrace``.
public struct SpanHandle: Sendable, Equatable {
    public let index: Int
    public let spanID: UInt64
}
