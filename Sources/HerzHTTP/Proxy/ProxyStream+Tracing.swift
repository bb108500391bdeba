import HerzCore
import NIOHTTP1

/// Distributed tracing of a ``ProxyStream`` (docs/tracing.md): the incoming W3C/B3 context is
/// continued or a trace is started, every upstream attempt gets a `traceparent` naming its client
/// span, and a sampled request's spans go to the exporter when it ends.
///
/// An unsampled request costs the header parse, two random numbers and the `traceparent` written
/// into its upstream head at routing (mirrors carry it too); only sampled requests allocate a
/// ``RequestTrace``.
extension ProxyStream {
    func startTrace(_ head: HTTPRequestHead, sampler: TraceSampler) {
        let incoming = TraceContextCodec.extract(from: head.headers)
        var context = incoming ?? TraceContext(traceIDHigh: worker.random.next(), traceIDLow: nonZeroRandom(),
                                               spanID: 0, sampled: false)
        context.sampled = sampler.shouldSample(parent: incoming, traceIDLow: context.traceIDLow)
        traceContext = context
        traceSpanID = nonZeroRandom()
        guard context.sampled else { return }
        let worker = self.worker
        let trace = RequestTrace(context: context, serverSpanID: traceSpanID, name: "\(head.method.rawValue) \(route?.name ?? "none")",
                                 startUnixNanos: TraceClock.nowUnixNanos(), makeSpanID: { worker.random.next() })
        streamInfo.trace = trace
    }

    /// Starts a sampled request's client span for this attempt and returns the head whose
    /// `traceparent` names it. (Unsampled requests carry the context written once at routing.)
    func tracedAttemptHead(_ head: HTTPRequestHead, endpoint: Int) -> HTTPRequestHead {
        guard let context = traceContext, streamInfo.trace != nil else { return head }
        var head = head
        var parent = traceSpanID
        if let trace = streamInfo.trace, let cluster {
            let address = cluster.shared.config.endpoints[endpoint].address
            let span = trace.start(cluster.shared.upstreamSpanName, kind: .client, attributes: [
                SpanAttribute("http.request.method", head.method.rawValue),
                SpanAttribute("server.address", address.host), SpanAttribute("server.port", address.port),
                SpanAttribute("herz.cluster", cluster.shared.config.name), SpanAttribute("herz.attempt", attempts),
            ])
            upstreamSpan = span
            parent = span.spanID
        }
        TraceContextCodec.reparent(context, parentSpanID: parent, in: &head.headers)
        return head
    }

    func traceAttemptEnded(_ outcome: WorkerCluster.AttemptOutcome) {
        guard let span = upstreamSpan else { return }
        upstreamSpan = nil
        let result: SpanAttribute
        var failed = true
        switch outcome {
        case .status(let code):
            result = SpanAttribute("http.response.status_code", code)
            failed = code >= 500
        case .connectFailure: result = SpanAttribute("error.type", "connect_failure")
        case .reset: result = SpanAttribute("error.type", "reset")
        case .timeout: result = SpanAttribute("error.type", "timeout")
        case .cancelled: result = SpanAttribute("error.type", "cancelled")
        }
        streamInfo.trace?.end(span, attributes: [result], isError: failed)
    }

    func finishTrace(_ trace: RequestTrace, reset: Bool) {
        var attributes: [SpanAttribute] = []
        attributes.reserveCapacity(9)   // every attribute below: one allocation
        attributes.append(SpanAttribute("http.request.method", requestHead?.method.rawValue ?? ""))
        attributes.append(SpanAttribute("url.path", requestHead.map { String($0.uri.prefix { $0 != "?" }) } ?? ""))
        attributes.append(SpanAttribute("herz.listener", listener.config.name))
        attributes.append(SpanAttribute("herz.route", routeName))
        attributes.append(SpanAttribute("herz.request_id", streamInfo.requestID))
        attributes.append(SpanAttribute("herz.attempts", attempts))
        if let clusterName { attributes.append(SpanAttribute("herz.cluster", clusterName)) }
        // The status that went downstream, even when the stream then ended as a reset.
        let status = Int(responseStatus?.code ?? 0)
        if responseStatus != nil { attributes.append(SpanAttribute("http.response.status_code", status)) }
        if reset { attributes.append(SpanAttribute("error.type", failureReason ?? "reset")) }
        trace.end(trace.serverSpan, attributes: attributes, isError: reset || status >= 500)
        streamInfo.trace = nil
        worker.spanExporter?.submit(trace.finish())
    }

    private func nonZeroRandom() -> UInt64 {
        let value = worker.random.next()
        return value == 0 ? 1 : value
    }
}
