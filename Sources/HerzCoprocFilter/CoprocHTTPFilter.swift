import HerzCore
import HerzCoproc
import NIOCore
import NIOHTTP1

/// The kernel's generic `coproc` filter: runs a ``CoprocFilterMachine`` for one stream and carries
/// out its actions through the ``FilterCallbacks`` and a ``CoprocCallDispatcher``.
///
/// Owned by the stream's event loop, like every filter; the dispatcher's completions must arrive on
/// it too (synchronously inside `dispatch` is fine). The filter keeps body chunks it is waiting on
/// itself (`stopIterationNoBuffer`) and passes them on with `inject…Data`; heads and trailers wait
/// in the filter manager (`stopIteration`) and answers edit them there (`modifyHeld…`).
///
/// `content-length`: when a coprocessor may change a body, the head leaves without
/// `content-length` (the codec frames the body) unless the whole body already left the filter, in
/// which case it carries the exact length (`transfer-encoding` removed). Never edited on responses
/// that have no body by definition (to HEAD, 1xx, 204, 304).
public final class CoprocHTTPFilter: HTTPFilter {
    private var machine: CoprocFilterMachine
    private let dispatcher: CoprocCallDispatcher
    private let streamInfo: StreamInfo
    private let filterConfig: String
    private var callbacks: FilterCallbacks?
    private var outstanding: (seq: UInt64, ticket: CoprocCallTicket)?
    private var draining = false

    /// The head or trailers of the callback running now: answers that arrive synchronously edit
    /// these directly (the manager holds them only once the callback returned).
    private var currentRequestHead: HTTPRequestHead?
    private var currentResponseHead: HTTPResponseHead?
    private var currentTrailers: (direction: CoprocDirection, trailers: HTTPHeaders)?
    private var requestIsHEAD = false

    public init(config: CoprocFilterConfig, dispatcher: CoprocCallDispatcher, streamInfo: StreamInfo) {
        self.machine = CoprocFilterMachine(coprocessor: config.coprocessor, phases: Set(config.phases.map(CallPhase.init)),
                                           maxBodyBytes: config.maxBodyBytes)
        self.dispatcher = dispatcher
        self.streamInfo = streamInfo
        self.filterConfig = config.settingsJSON
    }

    // MARK: - HTTPFilter

    public var traceName: String { "coproc " + self.machine.coprocessor }

    public func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        self.callbacks = callbacks
        self.requestIsHEAD = head.method == .HEAD
        let scheme = self.streamInfo.scheme
        self.currentRequestHead = head
        let verdict = self.machine.receiveHeaders(.request, endStream: endStream) { WireHeaderConversion.request(head, scheme: scheme) }
        self.drain()
        head = self.currentRequestHead!
        self.currentRequestHead = nil
        return Self.status(verdict, applying: { head.headers.apply($0) })
    }

    public func decodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus {
        self.callbacks = callbacks
        let verdict = self.machine.receiveData(.request, data, endStream: endStream)
        self.drain()
        return verdict == .pass ? .continue : .stopIterationNoBuffer
    }

    public func decodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus {
        self.callbacks = callbacks
        return self.handleTrailers(&trailers, .request)
    }

    public func encodeHeaders(_ head: inout HTTPResponseHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        self.callbacks = callbacks
        self.currentResponseHead = head
        let verdict = self.machine.receiveHeaders(.response, endStream: endStream) { WireHeaderConversion.response(head) }
        self.drain()
        head = self.currentResponseHead!
        self.currentResponseHead = nil
        let bodyless = self.hasNoBody(head)
        return Self.status(verdict, applying: { if !bodyless { head.headers.apply($0) } })
    }

    public func encodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus {
        self.callbacks = callbacks
        let verdict = self.machine.receiveData(.response, data, endStream: endStream)
        self.drain()
        return verdict == .pass ? .continue : .stopIterationNoBuffer
    }

    public func encodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus {
        self.callbacks = callbacks
        return self.handleTrailers(&trailers, .response)
    }

    public func onStreamComplete() {
        self.machine.streamComplete()
        self.drain()
        self.callbacks = nil
    }

    // MARK: - Machine glue

    private static func status(_ verdict: CoprocFilterMachine.HeadersVerdict, applying edit: (ContentLengthEdit) -> Void) -> FilterHeadersStatus {
        switch verdict {
        case .pass(let contentLength):
            edit(contentLength)
            return .continue
        case .stop:
            return .stopIteration
        }
    }

    private func handleTrailers(_ trailers: inout HTTPHeaders, _ direction: CoprocDirection) -> FilterTrailersStatus {
        self.currentTrailers = (direction, trailers)
        let verdict = self.machine.receiveTrailers(direction) { WireHeaderConversion.fields(trailers) }
        self.drain()
        trailers = self.currentTrailers!.trailers
        self.currentTrailers = nil
        return verdict == .pass ? .continue : .stopIteration
    }

    /// Performs the machine's actions in order. Re-entrant calls (an outcome delivered inside
    /// `dispatch`, or a callback the manager makes while an action runs) only add actions; the
    /// outermost loop performs them.
    private func drain() {
        guard !self.draining else { return }
        self.draining = true
        defer { self.draining = false }
        while let action = self.machine.nextAction() {
            self.perform(action)
        }
    }

    private func perform(_ action: CoprocFilterMachine.Action) {
        switch action {
        case .sendCall(let seq, let phase, let endStream, let headers, let body):
            let call = CoprocCall(callId: 0, streamId: self.streamInfo.streamID, deadlineNanos: 0, phase: phase,
                                  endStream: endStream, headers: headers, body: body,
                                  route: self.streamInfo.route?.name ?? "", filterConfig: self.filterConfig)
            let span = CoprocCallSpan(streamInfo: self.streamInfo, coprocessor: self.machine.coprocessor, phase: phase)
            let ticket = self.dispatcher.dispatch(coprocessor: self.machine.coprocessor, call: call) { [weak self] outcome in
                span?.end(outcome)
                self?.callCompleted(seq: seq, outcome: outcome)
            }
            if self.machine.isInFlight(seq) { self.outstanding = (seq, ticket) }

        case .mutateHead(let direction, let mutation):
            self.editHead(direction) { $0.apply(mutation) }

        case .mutateTrailers(let direction, let mutation):
            if self.currentTrailers?.direction == direction {
                self.currentTrailers!.trailers.apply(mutation)
            } else if direction == .request {
                self.callbacks?.modifyHeldRequestTrailers { $0.apply(mutation) }
            } else {
                self.callbacks?.modifyHeldResponseTrailers { $0.apply(mutation) }
            }

        case .emit(.request, let data, let endStream):
            self.callbacks?.injectDecodedData(data, endStream: endStream)
        case .emit(.response, let data, let endStream):
            self.callbacks?.injectEncodedData(data, endStream: endStream)

        case .release(let direction, let contentLength):
            if contentLength != .keep { self.editContentLength(direction, contentLength) }
            if direction == .request { self.callbacks?.continueDecoding() } else { self.callbacks?.continueEncoding() }

        case .localReply(let status, let body, let headers):
            self.callbacks?.sendLocalReply(status: HTTPResponseStatus(statusCode: status), body: body,
                                           headers: WireHeaderConversion.httpHeaders(headers))

        case .cancelCall(let seq):
            if let outstanding = self.outstanding, outstanding.seq == seq { self.dispatcher.cancel(outstanding.ticket) }
            self.outstanding = nil

        case .streamEnded(let reset):
            self.dispatcher.streamEnded(coprocessor: self.machine.coprocessor, streamId: self.streamInfo.streamID, reset: reset)
        }
    }

    private func callCompleted(seq: UInt64, outcome: CoprocCallOutcome) {
        if self.outstanding?.seq == seq { self.outstanding = nil }
        self.machine.callCompleted(seq: seq, outcome: outcome)
        self.drain()
    }

    /// Edits the direction's head: the one of the running callback, else the one held behind us.
    private func editHead(_ direction: CoprocDirection, _ edit: (inout HTTPHeaders) -> Void) {
        switch direction {
        case .request:
            if self.currentRequestHead != nil {
                edit(&self.currentRequestHead!.headers)
            } else {
                self.callbacks?.modifyHeldRequestHead { edit(&$0.headers) }
            }
        case .response:
            if self.currentResponseHead != nil {
                edit(&self.currentResponseHead!.headers)
            } else {
                self.callbacks?.modifyHeldResponseHead { edit(&$0.headers) }
            }
        }
    }

    /// As ``editHead(_:_:)`` for a content-length edit, which responses without a body never get.
    private func editContentLength(_ direction: CoprocDirection, _ edit: ContentLengthEdit) {
        switch direction {
        case .request:
            self.editHead(.request) { $0.apply(edit) }
        case .response:
            if self.currentResponseHead != nil {
                if !self.hasNoBody(self.currentResponseHead!) { self.currentResponseHead!.headers.apply(edit) }
            } else {
                self.callbacks?.modifyHeldResponseHead { head in
                    if !self.hasNoBody(head) { head.headers.apply(edit) }
                }
            }
        }
    }

    private func hasNoBody(_ head: HTTPResponseHead) -> Bool {
        self.requestIsHEAD || head.status.code < 200 || head.status.code == 204 || head.status.code == 304
    }
}
