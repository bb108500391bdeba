import HerzCore
import NIOCore
import NIOHTTP1

/// One proxied request: runs the filter chain, routes, talks to the upstream (with retries and
/// timeouts) and writes the response downstream.
///
/// Owned by the worker's event loop; never crosses threads. It is the ``FilterManagerSink`` of its
/// ``FilterManager`` and the delegate of its current upstream exchange, and it translates between
/// the two: the filter manager decides *what* happens to headers and bodies, this class performs the
/// I/O it asks for.
final class ProxyStream: FilterManagerSink, UpstreamResponseDelegate, DeadlineOwner {
    let worker: Worker
    let snapshot: ConfigSnapshot
    let listener: ListenerRuntime
    let streamInfo: StreamInfo
    weak var responder: DownstreamResponder?
    /// The stream's filter chain when its listener has filters; nil otherwise (``passThrough``).
    private(set) var filterManager: FilterManager?
    /// The filter chain of a listener without filters: the same actions, no allocation per stream.
    var passThrough = PassThroughFilterChain()
    let startTime: NIODeadline

    // Request side.
    var requestHead: HTTPRequestHead?
    var upstreamHead: HTTPRequestHead?
    var requestComplete = false           // the downstream finished sending
    var forwardedRequestEnd = false       // the filter chain released the request's end
    var retainedBody: [ByteBuffer] = []   // for retries, while small enough
    var retainedBytes = 0
    var retainable = true
    var pendingBody: [HTTPClientRequestPart] = []  // waiting for an upstream connection
    var pendingBytes = 0
    /// The request ended with its head: `.end` is still owed to the upstream connection.
    var pendingEnd = false
    /// The request head did not end the request: body chunks or trailers follow (decides framing).
    var requestHasBody = false
    var downstreamGate = ReadGate()
    /// Copies of this request in flight to mirror clusters (``RequestMirror``); usually empty.
    var mirrors: [RequestMirror] = []
    var upstreamGate = ReadGate()

    // Routing and upstream.
    /// The route in force, read from `streamInfo` when the stream starts and when the request
    /// reaches the router (a filter may have changed it). Kept here because every read of the
    /// cross-module `streamInfo.route` copies the whole entry (a dozen retains).
    var route: RouteEntry?
    var clusterName: String?
    var cluster: WorkerCluster?
    var hashKey: UInt64?
    var exchange: UpstreamExchange?
    var waiter: (pool: EndpointPool, id: Int)?
    var attempts = 0
    var currentAttempt: WorkerCluster.Attempt?
    /// Endpoints of the attempts before the last one (filled on retries only: no array per request).
    var triedEndpoints: [Int] = []
    var lastTriedEndpoint: Int?
    var countedActiveRequest = false
    /// Token of the route timeout in the worker's ``DeadlineQueue`` (nil: none running).
    var routeDeadline: UInt64?
    var tryTimer: Scheduled<Void>?
    /// Token of the listener's whole-request deadline (`limits.request_timeout`), if configured.
    var requestDeadline: UInt64?

    // Tracing (ProxyStream+Tracing.swift); nil when `tracing:` is off.
    var traceContext: TraceContext?
    /// The span id upstreams see as parent when this request is not sampled (no span is recorded).
    var traceSpanID: UInt64 = 0
    /// The client span of the running upstream attempt (sampled requests only).
    var upstreamSpan: SpanHandle?

    // Response side.
    var responseStarted = false          // upstream response head accepted (no more retries)
    var responseHeadSent = false         // a response head went downstream
    var responseStatus: HTTPResponseStatus?
    var upstreamStatus = 0
    var responseBytes = 0
    var upstreamResponseKeepAlive = true
    var finished = false
    var closeConnectionAfter = false
    /// Set while the stream is being torn down as a reset (the filter manager then only reports
    /// `.streamComplete`, which must still count as a reset).
    var resetting = false
    var failureReason: String?
    /// Depth of I/O callbacks (downstream or upstream reads) running on this stream. Writes made
    /// inside one are flushed when that read burst completes; writes made outside any (a
    /// coprocessor's answer, a timer, a filter resuming later) are flushed at once.
    var ioCallbackDepth = 0

    /// Largest request body kept for a retry; larger bodies disable retries.
    static let retainLimit = 64 * 1024

    init(worker: Worker, snapshot: ConfigSnapshot, listener: ListenerRuntime, responder: DownstreamResponder,
         clientAddress: String?, scheme: String) {
        self.worker = worker
        self.snapshot = snapshot
        self.listener = listener
        self.responder = responder
        self.startTime = .now()
        self.streamInfo = StreamInfo(listenerName: listener.config.name, clientAddress: clientAddress,
                                     scheme: scheme, requestID: "")
    }

    // MARK: downstream events

    func receiveHead(_ head: HTTPRequestHead, endStream: Bool) {
        ioCallbackDepth += 1
        defer { ioCallbackDepth -= 1 }
        requestHead = head
        requestComplete = endStream
        // HTTP/1.x: the client asked to close after this exchange (or spoke HTTP/1.0 without keep-alive).
        closeConnectionAfter = head.version.major == 1 && !head.isKeepAlive
        if let id = head.headers.first(name: "x-request-id"), !id.isEmpty {
            streamInfo.requestID = id
        } else {
            streamInfo.requestID = RequestID.make(using: &worker.random)
        }
        let match = listener.routeTable.match(authority: head.headers.first(name: "host"), head: head)
        route = match?.route
        streamInfo.route = route
        if let sampler = snapshot.tracingSampler { startTrace(head, sampler: sampler) }
        if !listener.filterFactories.isEmpty {
            // Factories that decide on the head alone leave their filter out (HeadDecision); with no
            // filter left the stream takes the pass-through path.
            let filters = FilterChainPlan.filters(for: head, streamInfo: streamInfo, factories: listener.filterFactories)
            if !filters.isEmpty {
                filterManager = FilterManager(filters: filters, streamInfo: streamInfo,
                                              bufferLimit: listener.config.limits.bufferLimitBytes, sink: self)
            }
        }
        if let limit = listener.config.limits.requestTimeout, limit > .zero {
            requestDeadline = worker.deadlines.add(after: limit, owner: self)
        }
        if let filterManager {
            filterManager.decodeHeaders(head, endStream: endStream)
        } else {
            run(passThrough.decodeHeaders(head, endStream: endStream))
        }
    }

    func receiveBody(_ data: ByteBuffer) {
        guard !finished else { return }
        ioCallbackDepth += 1
        defer { ioCallbackDepth -= 1 }
        chainDecodeData(data, endStream: false)
    }

    func receiveEnd(_ trailers: HTTPHeaders?) {
        requestComplete = true
        guard !finished else { return }
        ioCallbackDepth += 1
        defer { ioCallbackDepth -= 1 }
        if let trailers {
            if let filterManager { filterManager.decodeTrailers(trailers) } else { run(passThrough.decodeTrailers(trailers)) }
        } else {
            chainDecodeData(ByteBuffer(), endStream: true)
        }
    }

    /// The downstream went away (connection closed or HTTP/2 stream reset) before the stream finished.
    func downstreamClosed() {
        failureReason = failureReason ?? "downstream closed"
        reset()
    }

    /// Tears the stream down as incomplete: filters see the reset, the downstream sees an error
    /// (HTTP/1.1: connection closed; HTTP/2: RST_STREAM), never a response that looks complete.
    func reset() {
        guard !finished else { return }
        resetting = true
        if let filterManager { filterManager.resetStream(.peerReset) } else { run(passThrough.resetStream(.peerReset)) }
        finish(reset: true)
    }

    func downstreamReadComplete() {
        exchange?.flush()
    }

    func downstreamWritabilityChanged(isWritable: Bool) {
        // Pause first, then flush: the flush may report writability again synchronously.
        setGate(.upstream, .peerNotWritable, !isWritable)
        if !isWritable { responder?.flushResponse() }
    }

    // MARK: FilterManagerSink

    func filterManager(_ manager: FilterManager, perform action: FilterManagerAction) {
        handle(action)
    }

    private func handle(_ action: FilterManagerAction) {
        perform(action)
        if ioCallbackDepth == 0 { flushWrittenParts(after: action) }
    }

    /// Performs what the pass-through chain returned (listeners without filters).
    func run(_ actions: FilterChainActions) {
        for action in actions { handle(action) }
    }

    func chainDecodeData(_ data: ByteBuffer, endStream: Bool) {
        if let filterManager { filterManager.decodeData(data, endStream: endStream) } else { run(passThrough.decodeData(data, endStream: endStream)) }
    }

    func chainEncodeData(_ data: ByteBuffer, endStream: Bool) {
        if let filterManager { filterManager.encodeData(data, endStream: endStream) } else { run(passThrough.encodeData(data, endStream: endStream)) }
    }

    /// Flushes what an action wrote outside a read burst (nobody else would flush it).
    private func flushWrittenParts(after action: FilterManagerAction) {
        switch action {
        case .forwardRequestHead, .forwardRequestData, .forwardRequestTrailers:
            exchange?.flush()
        case .sendResponseHead, .sendResponseData, .sendResponseTrailers:
            responder?.flushResponse()
        case .pauseReading, .resumeReading, .cancelUpstream, .resetStream, .streamComplete:
            break
        }
    }

    private func perform(_ action: FilterManagerAction) {
        switch action {
        case .forwardRequestHead(let head, let endStream):
            forwardedRequestEnd = endStream
            routeAndForward(head, endStream: endStream)
        case .forwardRequestData(let data, let endStream):
            forwardedRequestEnd = endStream
            forwardBody(data, endStream: endStream)
        case .forwardRequestTrailers(let trailers):
            forwardedRequestEnd = true
            if !mirrors.isEmpty { mirrorRequestEnd(trailers) }
            forwardRequestPart(.end(trailers))
            requestFullyForwarded()
        case .sendResponseHead(var head, let endStream):
            if !requestComplete {
                // The response ends before the request: this HTTP/1.1 connection cannot be reused.
                closeConnectionAfter = true
            }
            if closeConnectionAfter && head.version.major == 1 {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
            if let altSvc = listener.altSvc { head.headers.replaceOrAdd(name: "alt-svc", value: altSvc) }
            responseHeadSent = true
            responseStatus = head.status
            responder?.writeResponse(.head(head))
            if endStream { responder?.writeResponseEnd(nil, thenClose: closeConnectionAfter) }
        case .sendResponseData(let data, let endStream):
            responseBytes += data.readableBytes
            if data.readableBytes > 0 { responder?.writeResponse(.body(.byteBuffer(data))) }
            if endStream { responder?.writeResponseEnd(nil, thenClose: closeConnectionAfter) }

        case .sendResponseTrailers(let trailers):
            responder?.writeResponseEnd(trailers, thenClose: closeConnectionAfter)
        case .pauseReading(let peer):
            setGate(peer, .filterWatermark, true)
        case .resumeReading(let peer):
            setGate(peer, .filterWatermark, false)
        case .cancelUpstream:
            abandonUpstream()
        case .resetStream(let reason):
            failureReason = failureReason ?? "\(reason)"
            finish(reset: true)
        case .streamComplete:
            finish(reset: resetting)
        }
    }

    func setGate(_ peer: StreamPeer, _ reason: ReadGate.Reason, _ active: Bool) {
        switch peer {
        case .downstream:
            if let enabled = downstreamGate.set(reason, active) { responder?.setRequestReading(enabled) }
        case .upstream:
            if let enabled = upstreamGate.set(reason, active) { exchange?.setReading(enabled) }
        }
    }

    // MARK: completion

    func finish(reset: Bool) {
        guard !finished else { return }
        finished = true
        if !mirrors.isEmpty { endMirrors() }
        routeDeadline = nil
        tryTimer?.cancel(); tryTimer = nil
        requestDeadline = nil
        if let exchange {
            self.exchange = nil
            exchange.release(reusable: false)
        }
        cancelWaiter()
        endAttempt(.cancelled)
        releaseActiveRequest()
        if !downstreamGate.reasons.isEmpty { responder?.setRequestReading(true) }
        worker.metrics.recordRequest(stream: self, reset: reset)
        if let trace = streamInfo.trace { finishTrace(trace, reset: reset) }
        worker.accessLog?.log(stream: self, reset: reset)
        responder?.flushResponse()
        responder?.streamFinished(self, reset: reset, closeConnection: closeConnectionAfter)
        responder = nil
    }

    var routeName: String { route?.name ?? "none" }

    /// `limits.request_timeout` passed: 408 while the client is still sending, 504 while waiting for
    /// the upstream, a reset once the response has started.
    func deadlineExpired(token: UInt64) {
        if token == routeDeadline {
            routeDeadline = nil
            timedOut(perTry: false)
        } else if token == requestDeadline {
            requestDeadline = nil
            requestTimedOut()
        }
    }

    private func requestTimedOut() {
        guard !finished else { return }
        failureReason = "request timeout"
        if responseHeadSent {
            reset()
        } else {
            localReply(requestComplete ? .gatewayTimeout : .requestTimeout, "request timeout\n")
            responder?.flushResponse()
        }
    }
}
