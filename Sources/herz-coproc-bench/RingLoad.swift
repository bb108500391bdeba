import HerzCoproc
import HerzCoprocFilter
import NIOCore

/// What a ``RingLoad`` sends: the next call of the stream in a window slot, and the check of its
/// answer (which throws to fail the run). Called on the load's event loop only.
protocol RingWorkload {
    var coprocessorName: String { get }
    mutating func call(stream: UInt64) -> CoprocCall
    func check(_ result: AnswerResult, stream: UInt64) throws
    /// The slot's call got the failure policy (its session was lost): a stateful workload starts over.
    mutating func failed(stream: UInt64)
}

extension RingWorkload {
    mutating func failed(stream: UInt64) {}
}

/// Drives calls through the kernel's coprocessor dispatcher on its event loop, as the `coproc`
/// filter does: keeps `window` calls outstanding (1 = closed loop; each answer's completion
/// starts the next call, or schedules it at the pacer's next slot) until the duration has passed,
/// then waits for the calls still out. A call that fails by the coprocessor's failure policy (the
/// session was lost) is counted and retried after 1 ms; an answer that fails the workload's check
/// fails the run.
///
/// Event-loop owned: created, run and completed on `eventLoop`.
final class RingLoad {
    private let dispatcher: CoprocCallDispatcher
    private let eventLoop: EventLoop
    private var workload: any RingWorkload
    private let window: Int
    private let durationNanos: UInt64
    private let timed: Bool
    private var pacer: Pacer?
    private var recorder = Recorder()
    private var end: UInt64 = 0
    private var outstanding = 0
    private var finished = false
    private let promise: EventLoopPromise<Measurement>

    /// `timed`: record each call's latency (latency runs); otherwise only count calls.
    init(dispatcher: CoprocCallDispatcher, eventLoop: EventLoop, workload: any RingWorkload, window: Int, durationNanos: UInt64,
         pacer: Pacer?, timed: Bool) {
        self.dispatcher = dispatcher
        self.eventLoop = eventLoop
        self.workload = workload
        self.window = window
        self.durationNanos = durationNanos
        self.pacer = pacer
        self.timed = timed
        self.promise = eventLoop.makePromise()
    }

    func run() -> EventLoopFuture<Measurement> {
        eventLoop.preconditionInEventLoop()
        recorder = Recorder(expectedInterval: pacer?.intervalNanos ?? 0)
        end = recorder.startedAt &+ durationNanos
        for slot in 0..<window { issue(stream: UInt64(slot) + 1) }
        return promise.futureResult
    }

    private func issue(stream: UInt64) {
        let next = workload.call(stream: stream)
        let start = MonotonicClock.nanos()
        outstanding += 1
        _ = dispatcher.dispatch(coprocessor: workload.coprocessorName, call: next) { [self] outcome in
            outstanding -= 1
            guard !finished else { return }
            let now: UInt64
            let retryAfterFailure: Bool
            switch outcome {
            case .answered(let result):
                do { try workload.check(result, stream: stream) } catch { return fail(error) }
                now = timed ? recorder.record(since: start) : recorder.count()
                retryAfterFailure = false
            case .failClosed(let reason), .failOpen(let reason):
                // The session went away (the supervisor declared it hung, the coprocessor died):
                // count it, and let the runtime reconnect before the next call.
                recorder.fail(reason: reason)
                workload.failed(stream: stream)
                now = MonotonicClock.nanos()
                retryAfterFailure = true
            }
            if now < end {
                startNext(stream: stream, after: retryAfterFailure ? Self.retryDelay : 0)
            } else if outstanding == 0 {
                finished = true
                promise.succeed(recorder.finish())
            }
        }
    }

    /// Pause after a failed call, so calls made while no session is up do not spin.
    private static let retryDelay: UInt64 = 1_000_000

    private func startNext(stream: UInt64, after delay: UInt64) {
        guard pacer != nil || delay > 0 else { return issue(stream: stream) }
        let at = max(pacer?.nextStart() ?? 0, MonotonicClock.nanos() &+ delay)
        eventLoop.scheduleTask(deadline: .uptimeNanoseconds(at)) { [self] in issue(stream: stream) }
    }

    private func fail(_ error: Error) {
        finished = true
        promise.fail(error)
    }
}
