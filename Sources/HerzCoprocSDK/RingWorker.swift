import Atomics
import Glibc
import Logging

/// Serves one ring pair of one session on its own thread: consumes calls, asks the filter, writes
/// answers; spins `spinMicros` when idle, then sleeps on the worker's doorbell. No locks: the rings
/// are its only link to the kernel, atomics its only link to the server.
///
/// Owned by its thread (`run()`); the server's main thread only reads `hasParkedAnswer` / `isBroken`
/// and fires the session's `StopSignal`.
final class RingWorker: @unchecked Sendable {
    private let region: SharedRegion
    private let index: Int
    private let doorbell: Doorbell
    private let stop: StopSignal
    private let filter: any CoprocessorFilter
    private let counters: ServerCounters
    private let spinNanos: UInt64
    private let wake: WakePipe
    private let logger: Logger
    private let parked = ManagedAtomic<Bool>(false)
    private let broken = ManagedAtomic<Bool>(false)
    /// Streams that made calls on this ring and whose `StreamEnd` has not come yet: the kernel keeps
    /// sending a stream's calls to the session that served its first, so a draining session is done
    /// only once these end too. Ring thread only; `openStreamCount` mirrors the count for the server.
    private var openStreams = Set<UInt64>()
    private let openStreamCount = ManagedAtomic<Int>(0)

    init(region: SharedRegion, index: Int, doorbell: Doorbell, stop: StopSignal, filter: any CoprocessorFilter,
         counters: ServerCounters, spinMicros: Int, wake: WakePipe, logger: Logger) {
        self.region = region
        self.index = index
        self.doorbell = doorbell
        self.stop = stop
        self.filter = filter.makeRingFilter()
        self.counters = counters
        self.spinNanos = UInt64(max(0, spinMicros)) * 1000
        self.wake = wake
        self.logger = logger
    }

    /// An answer waits for space on the answers ring.
    var hasParkedAnswer: Bool { parked.load(ordering: .acquiring) }
    /// Streams begun on this ring and not ended yet.
    var streamsInProgress: Int { openStreamCount.load(ordering: .acquiring) }
    /// The session broke (protocol violation or the kernel's doorbell closed): the server closes it.
    var isBroken: Bool { broken.load(ordering: .acquiring) }

    func run() {
        var consumer = region.consumer(worker: index, direction: .calls)
        var producer = region.producer(worker: index, direction: .answers)
        var parkedAnswer: [UInt8]? = nil
        while !stop.isFired {
            if let bytes = parkedAnswer {
                switch bytes.withUnsafeBytes({ producer.write($0) }) {
                case .written(let needsDoorbell):
                    if needsDoorbell { doorbell.ring() }
                    parkedAnswer = nil
                    parked.store(false, ordering: .releasing)
                case .full, .tooLarge:
                    if producer.prepareToWait(size: bytes.count), !sleep() { return }
                    continue
                }
            }
            var handled = 0
            batch: while handled < 64 && parkedAnswer == nil {
                switch consumer.next() {
                case .record(let record):
                    handled += 1
                    do {
                        parkedAnswer = try handle(record, producer: &producer)
                    } catch {
                        return fail("malformed call frame: \(error)")
                    }
                case .empty:
                    break batch
                case .violation(let violation):
                    return fail("calls ring violation: \(violation)")
                }
            }
            if parkedAnswer != nil { parked.store(true, ordering: .releasing) }
            if consumer.release() { doorbell.ring() }
            if handled > 0 || parkedAnswer != nil { continue }

            if spin(&consumer) { continue }
            if consumer.prepareToSleep() {
                let alive = sleep()
                consumer.didWake()
                if !alive { return }
            }
        }
    }

    /// Spins up to `spinNanos` re-reading `tail`; true when data arrived.
    private func spin(_ consumer: inout RingConsumer) -> Bool {
        guard spinNanos > 0 else { return false }
        let until = MonotonicClock.nanos() &+ spinNanos
        repeat {
            if consumer.hasPublishedData() { return true }
        } while MonotonicClock.nanos() < until && !stop.isFired
        return false
    }

    /// Blocks until the doorbell rings or the session stops; false when the thread must end.
    private func sleep() -> Bool {
        var items = [pollfd(fd: doorbell.fd, events: Int16(POLLIN), revents: 0),
                     pollfd(fd: stop.readFd, events: Int16(POLLIN), revents: 0)]
        while poll(&items, 2, -1) < 0 && errno == EINTR {}
        if stop.isFired || items[1].revents != 0 { return false }
        if doorbell.drain() == .peerGone {
            fail("the kernel closed its doorbell", level: .info)
            return false
        }
        return true
    }

    /// Decodes one call frame, answers it; returns the encoded answer when the answers ring is full.
    private func handle(_ record: UnsafeRawBufferPointer, producer: inout RingProducer) throws -> [UInt8]? {
        guard let length = try WireCodec.framedLength(record, limit: record.count) else {
            throw WireError.malformed("record shorter than its segment table")
        }
        switch try WireCodec.decodeKernelToCoprocessor(UnsafeRawBufferPointer(rebasing: record[..<length])) {
        case .streamEnd(let streamId, let reset):
            if openStreams.remove(streamId) != nil { openStreamCount.store(openStreams.count, ordering: .releasing) }
            filter.onStreamEnd(streamId: streamId, reset: reset)
            return nil
        case .call(let call):
            if openStreams.insert(call.streamId).inserted { openStreamCount.store(openStreams.count, ordering: .releasing) }
            let answer = CoprocAnswer(callId: call.callId, result: answerChecked(call))
            return write(answer, producer: &producer)
        }
    }

    private func answerChecked(_ call: CoprocCall) -> AnswerResult {
        if call.deadlineNanos != 0 && MonotonicClock.nanos() > call.deadlineNanos {
            counters.failed.wrappingIncrement(ordering: .relaxed)
            return .failure(.deadlineExceeded, message: "deadline passed before the call was read")
        }
        counters.inFlight.wrappingIncrement(ordering: .relaxed)
        var result = filter.answer(call)
        counters.inFlight.wrappingDecrement(ordering: .relaxed)
        if !result.fits(call.phase) {
            logger.error("filter answered \(call.phase) with a result of another phase; sending failure")
            result = .failure(.internal, message: "answer does not fit phase \(call.phase.configName)")
        }
        if case .failure = result { counters.failed.wrappingIncrement(ordering: .relaxed) }
        counters.served.wrappingIncrement(ordering: .relaxed)
        return result
    }

    /// Encodes `answer` straight into the ring; returns its bytes when the ring is full.
    private func write(_ answer: CoprocAnswer, producer: inout RingProducer) -> [UInt8]? {
        var size = min(producer.maxFrame, Self.sizeGuess(answer))
        while true {
            do {
                switch try producer.write(size: size, fill: { try WireCodec.encode(answer, into: $0) }) {
                case .written(let needsDoorbell):
                    if needsDoorbell { doorbell.ring() }
                    return nil
                case .full:
                    return WireCodec.encodeToBytes(answer)
                case .tooLarge:
                    return write(Self.tooLarge(answer), producer: &producer)
                }
            } catch WireError.bufferTooSmall(let needed) where needed <= producer.maxFrame {
                size = needed
            } catch {
                return write(Self.tooLarge(answer), producer: &producer)
            }
        }
    }

    /// A first guess at the answer's framed size that holds its body, so a large body is encoded
    /// once (the encoder runs again with the exact size only when a guess is short, e.g. many headers).
    private static func sizeGuess(_ answer: CoprocAnswer) -> Int {
        switch answer.result {
        case .data(_, let body?): return body.readableBytes + 1024
        case .localReply(let reply): return reply.body.readableBytes + 1024
        default: return 1024
        }
    }

    private static func tooLarge(_ answer: CoprocAnswer) -> CoprocAnswer {
        CoprocAnswer(callId: answer.callId, result: .failure(.internal, message: "answer exceeds the ring's maxFrame"))
    }

    private func fail(_ reason: String, level: Logger.Level = .error) {
        logger.log(level: level, "session ended on worker \(index): \(reason)")
        broken.store(true, ordering: .releasing)
        wake.wake()
    }
}

extension AnswerResult {
    /// Whether this answer's variant fits a call of `phase` (docs/coprocessor-protocol.md section 4).
    public func fits(_ phase: CallPhase) -> Bool {
        switch (self, phase) {
        case (.localReply, _), (.failure, _): return true
        case (.headers, .requestHeaders), (.headers, .responseHeaders): return true
        case (.data, .requestBody), (.data, .responseBody): return true
        case (.trailers, .requestTrailers), (.trailers, .responseTrailers): return true
        default: return false
        }
    }
}
