import HerzCoproc
import HerzCoprocFilter
import HerzCore
import NIOCore
import NIOPosix

/// One worker's client of one coprocessor: sends its filters' calls on the worker's calls ring of
/// the active session, reads answers from the answers ring when the doorbell rings, and applies the
/// coprocessor's `on_failure` policy whenever a call cannot get a real answer
/// (docs/coprocessor-protocol.md sections 3, 4 and 7).
///
/// Guarantees: every dispatched call completes exactly once (answer, failure policy, or timeout)
/// unless the caller cancels it first; nothing here blocks the event loop (a full ring parks the
/// call until the coprocessor frees space); memory is bounded by the worker's streams (one call per
/// stream in flight). Event-loop owned: every method runs on `eventLoop`.
final class WorkerCoprocClient {
    /// How long the worker keeps polling the answers ring after its last call or answer before it
    /// arms the doorbell and waits for epoll: while calls flow, answers are picked up without a
    /// doorbell write on the coprocessor's side or a wake-up on ours (the ring protocol's "spin
    /// briefly, then sleep", done as event-loop tasks so other I/O keeps being served).
    static let answerSpin = TimeAmount.microseconds(30)

    let name: String
    let config: CoprocessorConfig
    let workerIndex: Int
    let eventLoop: EventLoop
    private let deadlines: DeadlineQueue
    private let metrics: CoprocMetrics
    /// Set once by the runtime right after creation.
    weak var reporter: CoprocSessionReporter?

    private var links: [UInt64: WorkerSessionLink] = [:]
    private var activeSessionId: UInt64?
    private var unavailableReason: CoprocFailureReason = .down
    private var ledger = CoprocCallLedger<PendingCoprocCall>()
    private var blocked = CircularBuffer<PendingCoprocCall>()
    private var waiting = CircularBuffer<PendingCoprocCall>()
    private var blockedStreamEnds = CircularBuffer<(streamId: UInt64, reset: Bool, sessionId: UInt64)>()
    /// The session each stream's calls went to: a stream stays with it (its per-stream state lives
    /// there) while it is alive, even once a newer session takes new streams (upgrade, drain).
    private var streamSessions: [UInt64: UInt64] = [:]

    init(name: String, config: CoprocessorConfig, workerIndex: Int, eventLoop: EventLoop, deadlines: DeadlineQueue,
         metrics: CoprocMetrics) {
        self.name = name
        self.config = config
        self.workerIndex = workerIndex
        self.eventLoop = eventLoop
        self.deadlines = deadlines
        self.metrics = metrics
    }

    private var activeLink: WorkerSessionLink? { activeSessionId.flatMap { links[$0] } }

    /// Where `streamId`'s next call goes: its session while that is alive, else the active one.
    private func link(for streamId: UInt64) -> WorkerSessionLink? {
        if let pinned = streamSessions[streamId] {
            if let link = links[pinned], !link.broken { return link }
            streamSessions[streamId] = nil
        }
        return activeLink
    }

    /// Calls waiting for a session or for ring space, and calls in flight (for /coprocessors).
    var inFlight: Int { ledger.count }
    var queued: Int { blocked.count + waiting.count }
    /// Bytes published on the active calls ring and not yet consumed by the coprocessor.
    var ringOccupancy: Int { activeLink?.producer.usedBytes ?? 0 }

    // MARK: - Calls from filters

    func dispatch(_ call: CoprocCall, completion: @escaping (CoprocCallOutcome) -> Void) -> PendingCoprocCall {
        let pending = PendingCoprocCall(call: call, client: self, completion: completion)
        if let link = link(for: call.streamId) {
            if blocked.isEmpty, send(pending, on: link) { return pending }
            if !pending.isDone { park(pending) }
        } else {
            unavailable(pending, reason: unavailableReason)
        }
        return pending
    }

    func cancel(_ pending: PendingCoprocCall) {
        if case .inFlight(let callId, _) = pending.state { _ = ledger.abandon(callId: callId) }
        pending.cancel()
    }

    func streamEnded(streamId: UInt64, reset: Bool) {
        guard let link = link(for: streamId) else { return }
        streamSessions[streamId] = nil
        if !blockedStreamEnds.isEmpty || !write(.streamEnd(streamId: streamId, reset: reset), on: link) {
            blockedStreamEnds.append((streamId, reset, link.sessionId))
        }
    }

    // MARK: - Session changes (from the supervisor thread, hopped onto this loop)

    func activate(_ session: KernelCoprocSession) {
        let link = links[session.sessionId] ?? attach(session)
        activeSessionId = link.sessionId
        while let next = waiting.popFirst() {
            guard !next.isDone else { continue }
            if !blocked.isEmpty || !send(next, on: self.link(for: next.call.streamId) ?? link) {
                if !next.isDone { park(next) }
            }
        }
        flush()
    }

    func deactivate(reason: CoprocFailureReason) {
        let gone = activeSessionId
        activeSessionId = nil
        unavailableReason = reason
        while let next = blocked.popFirst() {
            if !next.isDone { unavailable(next, reason: reason) }
        }
        blockedStreamEnds.removeAll { $0.sessionId == gone }
    }

    func close(sessionId: UInt64, reason: CoprocFailureReason) {
        guard let link = links.removeValue(forKey: sessionId) else { return }
        link.close()
        if activeSessionId == sessionId { deactivate(reason: reason) }
        for pending in ledger.endSession(sessionId) where !pending.isDone {
            unavailable(pending, reason: reason)
        }
    }

    /// Every session closes (kernel shutdown); waiting calls fail closed.
    func shutdown() {
        for id in Array(links.keys) { close(sessionId: id, reason: .down) }
        while let next = waiting.popFirst() {
            if !next.isDone { finish(next, reason: .down, allowWait: false) }
        }
    }

    // MARK: - Doorbell

    func doorbellRang(_ link: WorkerSessionLink) {
        guard !link.broken else { return }
        link.consumer.didWake()
        drainAnswers(link)
        if link.broken { return }
        // While polling, the poll arms the doorbell once it stops.
        if !link.polling { sleep(link) }
        flush()
    }

    /// Arms the doorbell; answers published meanwhile are read first.
    private func sleep(_ link: WorkerSessionLink) {
        while !link.consumer.prepareToSleep() {
            drainAnswers(link)
            if link.broken { return }
        }
    }

    /// A call went out: look for its answer from the event loop for a while instead of sleeping.
    private func startPolling(_ link: WorkerSessionLink) {
        link.pollUntil = .now() + Self.answerSpin
        guard !link.polling, !link.broken else { return }
        link.polling = true
        link.consumer.didWake()
        eventLoop.execute { self.poll(link) }
    }

    private func poll(_ link: WorkerSessionLink) {
        guard !link.broken else {
            link.polling = false
            return
        }
        if link.consumer.hasPublishedData() {
            drainAnswers(link)
            if link.broken {
                link.polling = false
                return
            }
            link.pollUntil = .now() + Self.answerSpin
            flush()
        }
        if ledger.count > 0, NIODeadline.now() < link.pollUntil {
            eventLoop.execute { self.poll(link) }
            return
        }
        link.polling = false
        sleep(link)
        flush()
    }

    func doorbellClosed(_ link: WorkerSessionLink) {
        guard !link.broken else { return }
        reporter?.peerGone(name: name, sessionId: link.sessionId)
        close(sessionId: link.sessionId, reason: .down)
    }

    func deadlinePassed(_ pending: PendingCoprocCall) {
        switch pending.state {
        case .inFlight(let callId, _):
            _ = ledger.abandon(callId: callId)
            finish(pending, reason: .timeout, allowWait: false)
        case .waiting:
            finish(pending, reason: unavailableReason, allowWait: false)
        case .blocked:
            finish(pending, reason: .overloaded, allowWait: false)
        case .done:
            break
        }
    }

    // MARK: - Internals

    private func attach(_ session: KernelCoprocSession) -> WorkerSessionLink {
        let link = WorkerSessionLink(session: session, worker: workerIndex)
        links[session.sessionId] = link
        // Armed from the start: the coprocessor rings when it publishes the first answer.
        _ = link.consumer.prepareToSleep()
        let readFD = dup(link.doorbell.fd)
        if readFD >= 0 {
            ClientBootstrap(group: eventLoop)
                .channelInitializer { [weak self] channel in
                    guard let self else { return channel.eventLoop.makeSucceededVoidFuture() }
                    return channel.pipeline.addHandler(DoorbellHandler(client: self, link: link))
                }
                .withConnectedSocket(readFD)
                .whenComplete { [weak self, weak link] result in
                    guard let self, let link else { return }
                    switch result {
                    case .success(let channel):
                        if link.broken { channel.close(promise: nil) } else { link.channel = channel }
                        // Answers may have arrived before the channel was registered.
                        self.doorbellRang(link)
                    case .failure:
                        self.doorbellClosed(link)
                    }
                }
        }
        return link
    }

    /// Encodes and publishes one call; false when the ring is full (the caller parks it).
    private func send(_ pending: PendingCoprocCall, on link: WorkerSessionLink) -> Bool {
        let callId = ledger.begin(sessionId: link.sessionId, phase: pending.call.phase, token: pending)
        pending.call.callId = callId
        pending.call.deadlineNanos = NIODeadline.now().uptimeNanoseconds &+ UInt64(max(0, config.timeout.nanoseconds))
        switch publish(.call(pending.call), on: link) {
        case .written:
            pending.state = .inFlight(callId: callId, sessionId: link.sessionId)
            streamSessions[pending.call.streamId] = link.sessionId
            pending.deadlineToken = deadlines.add(after: config.timeout, owner: pending)
            startPolling(link)
            return true
        case .full:
            ledger.withdraw(callId: callId)
            return false
        case .tooLarge:
            ledger.withdraw(callId: callId)
            finish(pending, reason: .frameTooLarge, allowWait: false)
            return false
        }
    }

    private func write(_ frame: KernelToCoprocessor, on link: WorkerSessionLink) -> Bool {
        if case .written = publish(frame, on: link) { return true }
        return false
    }

    private enum PublishResult { case written, full, tooLarge }

    /// Encodes `frame` straight into the ring; rings the doorbell when the coprocessor sleeps.
    private func publish(_ frame: KernelToCoprocessor, on link: WorkerSessionLink) -> PublishResult {
        var size = min(Self.estimatedSize(frame), link.producer.maxFrame)
        while true {
            do {
                let result = try link.producer.write(size: size) { buffer in
                    try WireCodec.encode(frame, into: buffer)
                }
                switch result {
                case .written(let needsDoorbell):
                    if needsDoorbell { link.doorbell.ring() }
                    return .written
                case .full:
                    return .full
                case .tooLarge:
                    return .tooLarge
                }
            } catch WireError.bufferTooSmall(let needed) where needed > size {
                if needed > link.producer.maxFrame { return .tooLarge }
                size = needed
            } catch {
                return .tooLarge
            }
        }
    }

    /// An upper estimate of a frame's encoded size, so one encode usually suffices.
    static func estimatedSize(_ frame: KernelToCoprocessor) -> Int {
        guard case .call(let call) = frame else { return 64 }
        var size = 160 + call.body.readableBytes + call.route.utf8.count + call.filterConfig.utf8.count
        for header in call.headers { size += 32 + header.name.utf8.count + header.value.utf8.count }
        return (size + 7) & ~7
    }

    private func park(_ pending: PendingCoprocCall) {
        metrics.ringFull(coprocessor: name)
        pending.state = .blocked
        if pending.deadlineToken == 0 { pending.deadlineToken = deadlines.add(after: config.timeout, owner: pending) }
        blocked.append(pending)
        _ = link(for: pending.call.streamId).map { $0.producer.prepareToWait(size: Self.estimatedSize(.call(pending.call))) }
    }

    /// Sends parked calls and stream ends in order while the ring has space.
    private func flush() {
        while let next = blocked.first {
            if next.isDone { blocked.removeFirst(); continue }
            guard let link = link(for: next.call.streamId) else { return }
            if send(next, on: link) || next.isDone {
                blocked.removeFirst()
            } else {
                if link.producer.prepareToWait(size: Self.estimatedSize(.call(next.call))) { return }
            }
        }
        while let end = blockedStreamEnds.first {
            guard let link = links[end.sessionId], !link.broken else {
                blockedStreamEnds.removeFirst()  // that session is gone, and with it the stream's state
                continue
            }
            guard write(.streamEnd(streamId: end.streamId, reset: end.reset), on: link) else {
                _ = link.producer.prepareToWait(size: 64)
                return
            }
            blockedStreamEnds.removeFirst()
        }
    }

    private func drainAnswers(_ link: WorkerSessionLink) {
        read: while true {
            switch link.consumer.next() {
            case .record(let bytes):
                let answer: CoprocAnswer
                do {
                    answer = try WireCodec.decodeAnswer(bytes)
                } catch {
                    return broken(link, detail: "undecodable answer (\(error))")
                }
                switch ledger.answer(answer, sessionId: link.sessionId) {
                case .deliver(let pending):
                    complete(pending, with: answer.result)
                case .late:
                    metrics.lateAnswer(coprocessor: name)
                case .violation(let detail):
                    return broken(link, detail: detail)
                }
            case .empty:
                break read
            case .violation(let violation):
                return broken(link, detail: "\(violation)")
            }
        }
        if link.consumer.release() { link.doorbell.ring() }
    }

    private func complete(_ pending: PendingCoprocCall, with result: AnswerResult) {
        if case .failure(let kind, _) = result {
            return finish(pending, reason: kind == .overloaded ? .overloaded : .internal, allowWait: false)
        }
        metrics.call(coprocessor: name, outcome: "answered", since: pending.dispatchedAt)
        pending.finish(.answered(result))
    }

    private func broken(_ link: WorkerSessionLink, detail: String) {
        reporter?.violation(name: name, sessionId: link.sessionId, detail: detail)
        close(sessionId: link.sessionId, reason: .protocol)
    }

    /// No session can take the call now: the policy decides (`wait` holds it up to `max_wait`).
    private func unavailable(_ pending: PendingCoprocCall, reason: CoprocFailureReason) {
        finish(pending, reason: reason, allowWait: true)
    }

    private func finish(_ pending: PendingCoprocCall, reason: CoprocFailureReason, allowWait: Bool) {
        switch config.onFailure {
        case .wait where allowWait:
            if case .waiting = pending.state, pending.deadlineToken != 0 {
                // Already holding under its max_wait deadline.
            } else {
                pending.deadlineToken = deadlines.add(after: config.maxWait, owner: pending)
            }
            pending.state = .waiting
            waiting.append(pending)
            return
        case .failOpen:
            metrics.call(coprocessor: name, outcome: "fail_open", since: pending.dispatchedAt)
            metrics.failure(coprocessor: name, reason: reason)
            pending.finish(.failOpen(reason: reason.rawValue))
        case .failClosed, .wait:
            metrics.call(coprocessor: name, outcome: "fail_closed", since: pending.dispatchedAt)
            metrics.failure(coprocessor: name, reason: reason)
            pending.finish(.failClosed(reason: reason.rawValue))
        }
    }
}

/// How workers tell the supervisor about sessions they found broken or gone. Thread-safe.
protocol CoprocSessionReporter: AnyObject, Sendable {
    func violation(name: String, sessionId: UInt64, detail: String)
    func peerGone(name: String, sessionId: UInt64)
}
