import HerzCore
import HerzCoproc
import NIOCore

/// The pure per-stream state machine of one `coproc` filter: filter-chain events and call outcomes
/// in, ``Action``s out (drained with ``nextAction()``). No I/O, no callbacks, no clock; owned by the
/// stream's event loop through its ``CoprocHTTPFilter``.
///
/// Guarantees (docs/coprocessor-protocol.md section 4, every row; tests in HerzCoprocFilterTests):
/// - at most one call is in flight; events that need a call (or that must stay behind one in their
///   direction) wait in one FIFO, so each direction's frames keep their order;
/// - body waiting in the filter per direction (queued chunks, a collected body, bytes kept back by a
///   `stopIterationAndBuffer` answer) never exceeds `maxBodyBytes`: over it the request gets a local
///   413 and the response a 500 (a reset once its headers went downstream), as the filter manager
///   does for its own buffers;
/// - a direction's body leaves (``Action/emit(_:_:endStream:)``) in order and before the direction is
///   released, and the end of a message leaves exactly once; ``Action/release(_:contentLength:)``
///   is never emitted while the filter still keeps the end of that message;
/// - a ``Action/sendCall(seq:phase:endStream:headers:body:)`` is always the last action of a step, so
///   an outcome delivered synchronously from inside the dispatch sees a consistent machine;
/// - after a local reply or ``streamComplete()`` no call is sent; outcomes of calls that are not the
///   one in flight are ignored; ``Action/streamEnded(reset:)`` is emitted once, only if a call was made,
///   after ``Action/cancelCall(seq:)`` of a call still in flight;
/// - a direction whose body goes to the coprocessor (its body phase is listed, or a hold sends it
///   there) gets exactly one body call with `endStream = true` once its body is complete, also when
///   trailers end the message: then an extra body call (the bytes kept back, often none) says so
///   before the trailers move on, and its answer's body leaves without ending the message. So a
///   coprocessor that holds bytes back (a streaming transform, an AEAD's final chunk) always gets to
///   release them, whatever ends the message.
public struct CoprocFilterMachine {
    /// What the adapter must do, in order.
    public enum Action: Equatable {
        /// Dispatch a call; report its outcome with `callCompleted(seq:outcome:)`.
        case sendCall(seq: UInt64, phase: CallPhase, endStream: Bool, headers: [WireHeader], body: ByteBuffer)
        /// Apply to the direction's head (the one being handled, or the one held behind the filter).
        case mutateHead(CoprocDirection, HeaderMutation)
        /// Apply to the direction's trailers (being handled, or held behind the filter).
        case mutateTrailers(CoprocDirection, HeaderMutation)
        /// Pass body on to the filters after this one (never ahead of what is held there).
        case emit(CoprocDirection, ByteBuffer, endStream: Bool)
        /// Let the direction's held frames go (continueDecoding/continueEncoding), first applying
        /// `contentLength` to a held head.
        case release(CoprocDirection, contentLength: ContentLengthEdit)
        /// End the stream with a generated response.
        case localReply(status: Int, body: String, headers: [WireHeader])
        /// The stream ended while this call was in flight.
        case cancelCall(seq: UInt64)
        /// Tell the coprocessor the stream is gone (`StreamEnd`).
        case streamEnded(reset: Bool)
    }

    /// What the filter returns for headers: pass them (after applying the edit) or hold them.
    public enum HeadersVerdict: Equatable { case pass(contentLength: ContentLengthEdit), stop }
    /// What the filter returns for a chunk: pass it, or keep it (the machine owns it now).
    public enum DataVerdict: Equatable { case pass, keep }
    /// What the filter returns for trailers: pass them or hold them.
    public enum TrailersVerdict: Equatable { case pass, stop }

    public let coprocessor: String
    public let phases: Set<CallPhase>
    public let maxBodyBytes: Int

    private enum Hold { case none, untilDataContinue, collect }

    /// One direction's progress.
    private struct Side {
        var hold = Hold.none
        var headReleased = false
        var endWithHead = false
        var endArrived = false
        var endDone = false
        var sawTrailers = false
        var bodyCallMade = false
        /// A body call with `endStream` went out: the coprocessor knows the body is complete.
        var bodyEndSent = false
        var collected: ByteBuffer?
        var kept: ByteBuffer?
        var emittedBytes = 0
        var endEmitted = false
    }

    private enum Work {
        case headers(CoprocDirection, [WireHeader], endStream: Bool)
        case data(CoprocDirection, ByteBuffer, endStream: Bool)
        case trailers(CoprocDirection, [WireHeader])

        var direction: CoprocDirection {
            switch self {
            case .headers(let d, _, _), .data(let d, _, _), .trailers(let d, _): return d
            }
        }
        var bytes: Int {
            if case .data(_, let chunk, _) = self { return chunk.readableBytes }
            return 0
        }
    }

    private enum Flight {
        case headers(CoprocDirection, endStream: Bool)
        /// `collected`: the body gathered for a `stopAllIteration…` answer. `trailersFollow`: the
        /// call ends the body but trailers end the message, so its answer must not end it.
        case data(CoprocDirection, sent: ByteBuffer, endStream: Bool, collected: Bool, trailersFollow: Bool)
        case trailers(CoprocDirection)

        var direction: CoprocDirection {
            switch self {
            case .headers(let d, _), .data(let d, _, _, _, _), .trailers(let d): return d
            }
        }
    }

    private var request = Side()
    private var response = Side()
    private var queue: [Work] = []
    private var inFlight: (seq: UInt64, flight: Flight)?
    private var lastSeq: UInt64 = 0
    private var replied = false
    /// The local reply could replace the response (this filter had not let response headers go;
    /// after that the filter manager turns a local reply into a reset).
    private var repliedCleanly = false
    private var completed = false
    private var actions: [Action] = []
    private var nextActionIndex = 0

    public init(coprocessor: String, phases: Set<CallPhase>, maxBodyBytes: Int) {
        self.coprocessor = coprocessor
        self.phases = phases
        self.maxBodyBytes = maxBodyBytes
    }

    /// The next action to perform, in order; nil when there is none (the buffer is then reset).
    public mutating func nextAction() -> Action? {
        guard self.nextActionIndex < self.actions.count else {
            self.actions.removeAll(keepingCapacity: true)
            self.nextActionIndex = 0
            return nil
        }
        defer { self.nextActionIndex += 1 }
        return self.actions[self.nextActionIndex]
    }

    /// Whether call `seq` is still the one in flight.
    public func isInFlight(_ seq: UInt64) -> Bool { self.inFlight?.seq == seq }

    private var finished: Bool { self.replied || self.completed }

    // MARK: - Events

    /// A message head reached the filter. `wire` is only evaluated when a call needs it.
    public mutating func receiveHeaders(_ direction: CoprocDirection, endStream: Bool,
                                        wire: () -> [WireHeader]) -> HeadersVerdict {
        guard !self.finished else { return .pass(contentLength: .keep) }
        self.update(direction) { side in
            side.endArrived = endStream
            side.endWithHead = endStream
        }
        if self.phases.contains(direction.headersPhase) {
            self.queue.append(.headers(direction, wire(), endStream: endStream))
            self.pump()
            return .stop
        }
        let bodyCalls = self.phases.contains(direction.bodyPhase) && !endStream
        self.update(direction) { side in
            side.headReleased = true
            side.endDone = endStream
        }
        return .pass(contentLength: bodyCalls ? .remove : .keep)
    }

    /// A body chunk reached the filter.
    public mutating func receiveData(_ direction: CoprocDirection, _ chunk: ByteBuffer, endStream: Bool) -> DataVerdict {
        guard !self.finished else { return .pass }
        if endStream { self.update(direction) { $0.endArrived = true } }
        if self.isIdle(direction) && !self.bodyGoesToCoprocessor(direction) {
            self.update(direction) { side in
                side.emittedBytes += chunk.readableBytes
                if endStream { side.endDone = true; side.endEmitted = true }
            }
            return .pass
        }
        if self.waitingBytes(direction) + chunk.readableBytes > self.maxBodyBytes {
            self.overflow(direction)
            return .keep
        }
        self.queue.append(.data(direction, chunk, endStream: endStream))
        self.pump()
        return .keep
    }

    /// Trailers reached the filter (they end the message).
    public mutating func receiveTrailers(_ direction: CoprocDirection, wire: () -> [WireHeader]) -> TrailersVerdict {
        guard !self.finished else { return .pass }
        self.update(direction) { side in
            side.endArrived = true
            side.sawTrailers = true
        }
        let wanted = self.phases.contains(direction.trailersPhase)
        if self.isIdle(direction) && !wanted && !self.owesBodyEnd(direction) {
            self.update(direction) { $0.endDone = true }
            return .pass
        }
        self.queue.append(.trailers(direction, wanted ? wire() : []))
        self.pump()
        return .stop
    }

    /// The outcome of call `seq`. Ignored unless it is the call in flight.
    public mutating func callCompleted(seq: UInt64, outcome: CoprocCallOutcome) {
        guard !self.finished, let current = self.inFlight, current.seq == seq else { return }
        self.inFlight = nil
        switch outcome {
        case .failClosed(let reason):
            self.failClosed(reason: reason)
        case .failOpen:
            self.apply(Self.continueAnswer(for: current.flight), to: current.flight)
        case .answered(let result):
            switch (current.flight, result) {
            case (_, .localReply(let reply)):
                self.reply(status: Int(reply.status), body: String(buffer: reply.body), headers: reply.headers)
            case (_, .failure(let kind, _)):
                // The dispatcher maps failures to the policy; one that slips through fails closed.
                self.failClosed(reason: kind.reason)
            case (.headers, .headers), (.data, .data), (.trailers, .trailers):
                self.apply(result, to: current.flight)
            default:
                self.failClosed(reason: "protocol")  // an answer of the wrong kind for its phase
            }
        }
        self.pump()
    }

    /// The stream ended (complete, reset or local reply): cancel what is in flight and say goodbye.
    public mutating func streamComplete() {
        guard !self.completed else { return }
        self.completed = true
        self.queue.removeAll()
        if let current = self.inFlight {
            self.inFlight = nil
            self.actions.append(.cancelCall(seq: current.seq))
        }
        if self.lastSeq > 0 {
            self.actions.append(.streamEnded(reset: !(self.repliedCleanly || self.response.endDone)))
        }
    }

    // MARK: - Work

    /// Starts queued work until a call is in flight or the queue is empty.
    private mutating func pump() {
        while !self.finished, self.inFlight == nil, !self.queue.isEmpty {
            self.start(self.queue.removeFirst())
        }
    }

    private mutating func start(_ work: Work) {
        let direction = work.direction
        switch work {
        case .headers(_, let wire, let endStream):
            self.send(.headers(direction, endStream: endStream), phase: direction.headersPhase, endStream: endStream, headers: wire)

        case .data(_, let chunk, let endStream):
            if self.side(direction).hold == .collect {
                self.update(direction) { side in side.collected = Self.joined(side.collected, chunk) }
                if endStream { self.sendCollected(direction, endStream: true) }
            } else if self.bodyGoesToCoprocessor(direction) {
                var body = ByteBuffer()
                self.update(direction) { side in
                    body = Self.joined(side.kept, chunk) ?? ByteBuffer()
                    side.kept = nil
                }
                self.sendData(direction, body, endStream: endStream, collected: false)
            } else {
                self.emit(direction, chunk, endStream: endStream)
                if endStream { self.finishSide(direction) }
            }

        case .trailers(_, let wire):
            if self.side(direction).hold == .collect {
                // The body is complete: it goes first, the trailers wait for its answer.
                self.queue.insert(work, at: 0)
                self.sendCollected(direction, endStream: true, trailersFollow: true)
                return
            }
            var kept: ByteBuffer?
            self.update(direction) { side in
                kept = side.kept
                side.kept = nil
            }
            if self.owesBodyEnd(direction) {
                // Tell the coprocessor the body ended (with what it asked us to keep) before the
                // trailers move on; they wait for the answer.
                self.queue.insert(work, at: 0)
                self.sendData(direction, kept ?? ByteBuffer(), endStream: true, collected: false, trailersFollow: true)
                return
            }
            if let kept { self.emit(direction, kept, endStream: false) }
            if self.phases.contains(direction.trailersPhase) {
                self.send(.trailers(direction), phase: direction.trailersPhase, endStream: true, headers: wire)
            } else {
                self.finishSide(direction)
            }
        }
    }

    private mutating func sendCollected(_ direction: CoprocDirection, endStream: Bool, trailersFollow: Bool = false) {
        var body = ByteBuffer()
        self.update(direction) { side in
            body = side.collected ?? ByteBuffer()
            side.collected = nil
        }
        self.sendData(direction, body, endStream: endStream, collected: true, trailersFollow: trailersFollow)
    }

    private mutating func sendData(_ direction: CoprocDirection, _ body: ByteBuffer, endStream: Bool, collected: Bool,
                                   trailersFollow: Bool = false) {
        self.update(direction) { side in
            side.bodyCallMade = true
            if endStream { side.bodyEndSent = true }
        }
        self.send(.data(direction, sent: body, endStream: endStream, collected: collected, trailersFollow: trailersFollow),
                  phase: direction.bodyPhase, endStream: endStream, body: body)
    }

    private mutating func send(_ flight: Flight, phase: CallPhase, endStream: Bool, headers: [WireHeader] = [],
                               body: ByteBuffer = ByteBuffer()) {
        self.lastSeq += 1
        self.inFlight = (self.lastSeq, flight)
        self.actions.append(.sendCall(seq: self.lastSeq, phase: phase, endStream: endStream, headers: headers, body: body))
    }

    // MARK: - Answers (docs/coprocessor-protocol.md section 4)

    private static func continueAnswer(for flight: Flight) -> AnswerResult {
        switch flight {
        case .headers: return .headers(.continue, HeaderMutation())
        case .data: return .data(.continue, body: nil)
        case .trailers: return .trailers(.continue, HeaderMutation())
        }
    }

    private mutating func apply(_ result: AnswerResult, to flight: Flight) {
        switch (flight, result) {
        case (.headers(let direction, let endStream), .headers(let status, let mutation)):
            self.applyHeaders(direction, endStream: endStream, status: status, mutation: mutation)
        case (.data(let direction, let sent, let endStream, let collected, let trailersFollow), .data(let status, let body)):
            // A body call that ended the body while trailers end the message does not end it.
            self.applyData(direction, sent: sent, endsMessage: endStream && !trailersFollow, collected: collected, status: status, body: body)
        case (.trailers(let direction), .trailers(_, let mutation)):
            if !mutation.isEmpty { self.actions.append(.mutateTrailers(direction, mutation)) }
            self.finishSide(direction)
        default:
            break  // kinds were matched by the caller
        }
    }

    private mutating func applyHeaders(_ direction: CoprocDirection, endStream: Bool, status: RemoteHeadersStatus,
                                       mutation: HeaderMutation) {
        if !mutation.isEmpty { self.actions.append(.mutateHead(direction, mutation)) }
        switch status {
        case .continue:
            break
        case .continueAndDontEndStream:
            if endStream {
                // The next data answer's body ends the message; the head waits for it.
                self.sendData(direction, ByteBuffer(), endStream: true, collected: false)
                return
            }
        case .stopIteration:
            if !endStream { self.update(direction) { $0.hold = .untilDataContinue } }
        case .stopAllIterationAndBuffer, .stopAllIterationAndWatermark:
            self.update(direction) { $0.hold = .collect }
            if endStream {
                self.sendCollected(direction, endStream: true)
                return
            }
        }
        if endStream { self.update(direction) { $0.endDone = true } }
        self.tryRelease(direction)
    }

    /// `endsMessage`: the call carried `endStream` and no trailers follow.
    private mutating func applyData(_ direction: CoprocDirection, sent: ByteBuffer, endsMessage: Bool, collected: Bool,
                                    status: RemoteDataStatus, body: ByteBuffer?) {
        let bodyEnded = self.side(direction).bodyEndSent
        switch status {
        case .continue:
            self.emit(direction, body ?? sent, endStream: endsMessage)
            self.update(direction) { side in if side.hold == .untilDataContinue { side.hold = .none } }
        case .stopIterationNoBuffer:
            if endsMessage { self.emit(direction, ByteBuffer(), endStream: true) }
        case .stopIterationAndBuffer, .stopIterationAndWatermark:
            let keep = body ?? sent
            if bodyEnded {
                self.emit(direction, keep, endStream: endsMessage)  // nothing follows to prepend it to
            } else if keep.readableBytes > 0 {
                self.update(direction) { $0.kept = keep }
            }
        }
        if collected { self.update(direction) { $0.hold = .none } }
        if endsMessage {
            self.finishSide(direction)
        } else {
            self.tryRelease(direction)
        }
    }

    /// The end of the direction's message has been handled: nothing is held any more.
    private mutating func finishSide(_ direction: CoprocDirection) {
        self.update(direction) { side in
            side.endDone = true
            side.hold = .none
        }
        self.tryRelease(direction)
    }

    /// Releases what the manager holds behind the filter, unless a hold is in force or the filter
    /// still keeps the end of the message (releasing would end it, or pass trailers, too early).
    private mutating func tryRelease(_ direction: CoprocDirection) {
        let side = self.side(direction)
        guard side.hold == .none, !side.endArrived || side.endDone else { return }
        let edit = side.headReleased ? ContentLengthEdit.keep : self.contentLengthEdit(direction)
        self.update(direction) { $0.headReleased = true }
        self.actions.append(.release(direction, contentLength: edit))
    }

    /// Decided when the head first leaves: exact when the whole body already went, else removed
    /// when a coprocessor may change the body, else untouched.
    private func contentLengthEdit(_ direction: CoprocDirection) -> ContentLengthEdit {
        let side = self.side(direction)
        let bodyMayChange = side.bodyCallMade || (self.phases.contains(direction.bodyPhase) && !side.endWithHead)
        guard bodyMayChange else { return .keep }
        if side.endEmitted && !side.sawTrailers { return .set(side.emittedBytes) }
        return .remove
    }

    private mutating func emit(_ direction: CoprocDirection, _ data: ByteBuffer, endStream: Bool) {
        guard data.readableBytes > 0 || endStream else { return }
        self.update(direction) { side in
            side.emittedBytes += data.readableBytes
            if endStream { side.endEmitted = true }
        }
        self.actions.append(.emit(direction, data, endStream: endStream))
    }

    // MARK: - Ending the stream early

    private mutating func failClosed(reason: String) {
        self.reply(status: Int(CoprocFailureReply.status.code),
                   body: CoprocFailureReply.body(coprocessor: self.coprocessor, reason: reason),
                   headers: [WireHeader(CoprocFailureReply.errorHeader, reason)])
    }

    private mutating func overflow(_ direction: CoprocDirection) {
        switch direction {
        case .request: self.reply(status: 413, body: "request body too large", headers: [])
        case .response: self.reply(status: 500, body: "response body too large", headers: [])
        }
    }

    private mutating func reply(status: Int, body: String, headers: [WireHeader]) {
        self.replied = true
        self.repliedCleanly = !self.response.headReleased
        self.queue.removeAll()
        self.actions.append(.localReply(status: status, body: body, headers: headers))
    }

    // MARK: - Helpers

    private func side(_ direction: CoprocDirection) -> Side {
        direction == .request ? self.request : self.response
    }

    private mutating func update(_ direction: CoprocDirection, _ change: (inout Side) -> Void) {
        if direction == .request { change(&self.request) } else { change(&self.response) }
    }

    /// Nothing of this direction is held, queued or in flight, and its head has left.
    private func isIdle(_ direction: CoprocDirection) -> Bool {
        let side = self.side(direction)
        return side.headReleased && side.hold == .none && side.kept == nil
            && self.inFlight?.flight.direction != direction
            && !self.queue.contains { $0.direction == direction }
    }

    private func bodyGoesToCoprocessor(_ direction: CoprocDirection) -> Bool {
        self.phases.contains(direction.bodyPhase) || self.side(direction).hold == .untilDataContinue
    }

    /// The body goes to the coprocessor but it was not told yet that the body is complete (the
    /// message had a body — its head did not end it — and trailers are ending it).
    private func owesBodyEnd(_ direction: CoprocDirection) -> Bool {
        let side = self.side(direction)
        return !side.endWithHead && !side.bodyEndSent && self.bodyGoesToCoprocessor(direction)
    }

    /// Body of this direction waiting in the filter: queued chunks, a collected body, kept bytes.
    private func waitingBytes(_ direction: CoprocDirection) -> Int {
        let side = self.side(direction)
        let queued = self.queue.reduce(0) { $0 + ($1.direction == direction ? $1.bytes : 0) }
        return queued + (side.collected?.readableBytes ?? 0) + (side.kept?.readableBytes ?? 0)
    }

    private static func joined(_ first: ByteBuffer?, _ second: ByteBuffer) -> ByteBuffer? {
        guard var first else { return second }
        first.writeImmutableBuffer(second)
        return first
    }
}
