import NIOCore
import NIOHTTP1

/// The per-stream filter-chain state machine (Envoy's filter manager, kept pure).
///
/// Events come in through the `decode…`/`encode…` methods (from the downstream codec and the
/// upstream/terminal respectively) and through the ``FilterCallbacks`` filters call; actions go out,
/// in order, to the ``FilterManagerSink``. No I/O, no timers, no locks: one instance per stream,
/// owned by the stream's event loop. Events must not be fed from inside a filter callback.
///
/// Iteration:
/// - the request runs through filters `0..<n` and leaves as `.forwardRequestHead/Data/Trailers`;
///   the response runs through filters `n-1...0` and leaves as `.sendResponseHead/Data/Trailers`.
///   With no filters every event maps straight to its action;
/// - statuses mean what ``FilterHeadersStatus``, ``FilterDataStatus`` and ``FilterTrailersStatus``
///   say. In short: `stopIteration` holds the headers at the filter while body still reaches it, and
///   a later `continue` from its data callback releases the held headers, then its buffered body,
///   then the chunk; `stopAllIteration…` holds the headers *and* queues the body before the filter,
///   and on continue the headers go on first and the queued body is then handed to the filter
///   itself; `stopIterationNoBuffer` neither passes nor keeps the chunk; `continueAndDontEndStream`
///   passes headers with `endStream == false` and leaves ending the message to the filter
///   (`inject…Data(_, endStream: true)` or `continue…()`, which sends an empty final chunk).
///
/// Guarantees (each covered by `FilterManagerTests`):
/// - every filter sees a message's headers before any of its body, and its body before its trailers;
///   nothing after the end of a message reaches a filter or the sink;
/// - every body byte reaches each filter at most once and in order: buffered data is kept per filter
///   position (a queue of what waits to enter each filter), so the shared-buffer hazard (a later
///   filter seeing data twice or out of turn) cannot arise;
/// - callback calls made during a filter callback (by any filter) take effect right after it
///   returns; a local reply or reset requested while a filter runs takes effect after that filter
///   returns, and no filter is called after the stream completed;
/// - buffered bytes per direction never exceed `bufferLimit`: `…AndBuffer` overflows become a local
///   413 (request) or 500 (response; a reset once the response started). `…AndWatermark` overflows
///   accept the chunk that crossed the limit and emit `.pauseReading` once, then `.resumeReading` once
///   the direction's buffered bytes drop to half the limit;
/// - once the response ended (or the stream was reset) every filter gets `onStreamComplete()` exactly
///   once, then the sink gets `.streamComplete` exactly once, and every later event or callback is
///   ignored. The request may still be incomplete then (early response).
///
/// Misuse is ignored, never fatal: request data/trailers before request headers, a second set of
/// headers, anything after the end of a message, response events after a local reply replaced the
/// response, and any event after completion.
public final class FilterManager {
    let filters: [HTTPFilter]
    let handles: [FilterCallbackHandle]
    /// Facts about the stream shared by every filter.
    public let streamInfo: StreamInfo
    /// Maximum body bytes buffered per direction.
    public let bufferLimit: Int
    weak var sink: FilterManagerSink?

    let decoder: FilterIteration<DecodeDirection>
    let encoder: FilterIteration<EncodeDirection>

    /// How many filter callbacks are running (0 or 1: filters cannot re-enter the manager).
    var callbackDepth = 0
    /// Callback effects recorded while a filter callback runs.
    var deferred: [DeferredOp] = []
    var editingHeldHead = false

    /// The stream is finished: the response ended or the stream was reset.
    public internal(set) var isComplete = false

    var requestVersion: HTTPVersion = .http1_1
    var requestIsHEAD = false
    /// `.sendResponseHead` was emitted.
    var responseHeadersSent = false
    /// The terminal delivered the end of its response.
    var terminalResponseEnded = false
    /// A local reply replaced the terminal's response; its response events are ignored.
    var terminalSuperseded = false
    var upstreamCancelled = false

    /// - Parameters:
    ///   - filters: the stream's filters in configuration order (the terminal is not one of them).
    ///   - bufferLimit: maximum body bytes buffered per direction.
    ///   - sink: receives the actions; held weakly.
    public init(filters: [HTTPFilter], streamInfo: StreamInfo, bufferLimit: Int, sink: FilterManagerSink) {
        self.filters = filters
        self.streamInfo = streamInfo
        self.bufferLimit = bufferLimit
        self.sink = sink
        self.handles = filters.indices.map { FilterCallbackHandle(filterIndex: $0, streamInfo: streamInfo) }
        self.decoder = FilterIteration(filterCount: filters.count)
        self.encoder = FilterIteration(filterCount: filters.count)
        for handle in self.handles { handle.manager = self }
    }

    // MARK: - Downstream (request) events

    /// The request head arrived from downstream.
    public func decodeHeaders(_ head: HTTPRequestHead, endStream: Bool) {
        guard !self.isComplete, !self.decoder.aborted, !self.decoder.started else { return }
        self.decoder.started = true
        self.decoder.sourceEnded = endStream
        self.requestVersion = head.version
        self.requestIsHEAD = head.method == .HEAD
        if self.filters.isEmpty {
            self.emitRequest(.headers(head, endStream: endStream))
        } else {
            self.deliver(.headers(head, endStream: endStream), to: 0, in: self.decoder)
        }
    }

    /// A request body chunk arrived. Ignored before the head or after the end of the request.
    public func decodeData(_ data: ByteBuffer, endStream: Bool) {
        guard !self.isComplete, !self.decoder.aborted, self.decoder.started, !self.decoder.sourceEnded else { return }
        self.decoder.sourceEnded = endStream
        if self.filters.isEmpty {
            self.emitRequest(.data(data, endStream: endStream))
        } else {
            self.deliver(.data(data, endStream: endStream), to: 0, in: self.decoder)
        }
    }

    /// The request trailers arrived (they end the request). Ignored before the head or after the end.
    public func decodeTrailers(_ trailers: HTTPHeaders) {
        guard !self.isComplete, !self.decoder.aborted, self.decoder.started, !self.decoder.sourceEnded else { return }
        self.decoder.sourceEnded = true
        if self.filters.isEmpty {
            self.emitRequest(.trailers(trailers))
        } else {
            self.deliver(.trailers(trailers), to: 0, in: self.decoder)
        }
    }

    // MARK: - Terminal / upstream (response) events

    /// The response head arrived from the terminal. Ignored after a local reply replaced the response.
    public func encodeHeaders(_ head: HTTPResponseHead, endStream: Bool) {
        guard !self.isComplete, !self.terminalSuperseded, !self.encoder.started else { return }
        self.encoder.started = true
        self.encoder.sourceEnded = endStream
        self.terminalResponseEnded = endStream
        if self.filters.isEmpty {
            self.emitResponse(.headers(head, endStream: endStream))
        } else {
            self.deliver(.headers(head, endStream: endStream), to: 0, in: self.encoder)
        }
    }

    /// A response body chunk arrived from the terminal.
    public func encodeData(_ data: ByteBuffer, endStream: Bool) {
        guard !self.isComplete, !self.terminalSuperseded, self.encoder.started, !self.encoder.sourceEnded else { return }
        self.encoder.sourceEnded = endStream
        self.terminalResponseEnded = endStream
        if self.filters.isEmpty {
            self.emitResponse(.data(data, endStream: endStream))
        } else {
            self.deliver(.data(data, endStream: endStream), to: 0, in: self.encoder)
        }
    }

    /// The response trailers arrived from the terminal (they end the response).
    public func encodeTrailers(_ trailers: HTTPHeaders) {
        guard !self.isComplete, !self.terminalSuperseded, self.encoder.started, !self.encoder.sourceEnded else { return }
        self.encoder.sourceEnded = true
        self.terminalResponseEnded = true
        if self.filters.isEmpty {
            self.emitResponse(.trailers(trailers))
        } else {
            self.deliver(.trailers(trailers), to: 0, in: self.encoder)
        }
    }

    /// Local reply from the terminal (router: 404/503/504…): runs the encode path of ALL filters.
    /// Further response events from the terminal are ignored. If the response headers already went
    /// downstream, the stream is reset (`.localReplyAfterResponseStarted`) instead.
    public func sendLocalReply(status: HTTPResponseStatus, body: String, headers: HTTPHeaders) {
        self.record(.localReply(filterIndex: self.filters.count, status: status, body: body, headers: headers))
    }

    /// The I/O layer saw a reset (either peer): every filter gets `onStreamComplete()` once, the sink
    /// gets `.streamComplete`; nothing else is ever emitted after.
    public func resetStream(_ reason: StreamResetReason) {
        self.record(.reset(reason))
    }
}
