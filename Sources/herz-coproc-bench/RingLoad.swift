import HerzCoproc
import HerzCoprocFilter
import NIOCore

/// Drives calls through the kernel's coprocessor dispatcher on its event loop, as the `coproc`
/// filter does: keeps `window` calls outstanding (1 = closed loop; each answer's completion
/// starts the next call, or schedules it at the pacer's next slot) until the duration has passed,
/// then waits for the calls still out. Any call that does not come back as the echo fails the run.
///
/// Event-loop owned: created, run and completed on `eventLoop`.
final class RingLoad {
    private let dispatcher: CoprocCallDispatcher
    private let eventLoop: EventLoop
    private let call: BenchCall
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
    init(dispatcher: CoprocCallDispatcher, eventLoop: EventLoop, call: BenchCall, window: Int, durationNanos: UInt64,
         pacer: Pacer?, timed: Bool) {
        self.dispatcher = dispatcher
        self.eventLoop = eventLoop
        self.call = call
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
        var next = call.call
        next.streamId = stream
        let start = MonotonicClock.nanos()
        outstanding += 1
        _ = dispatcher.dispatch(coprocessor: BenchCall.coprocessorName, call: next) { [self] outcome in
            outstanding -= 1
            guard !finished else { return }
            guard case .answered(let result) = outcome else {
                return fail(BenchError("ring call failed: \(outcome)"))
            }
            do { try call.check(result) } catch { return fail(error) }
            let now = timed ? recorder.record(since: start) : recorder.count()
            if now < end {
                startNext(stream: stream)
            } else if outstanding == 0 {
                finished = true
                promise.succeed(recorder.finish())
            }
        }
    }

    private func startNext(stream: UInt64) {
        guard pacer != nil else { return issue(stream: stream) }
        let at = pacer!.nextStart()
        eventLoop.scheduleTask(deadline: .uptimeNanoseconds(at)) { [self] in issue(stream: stream) }
    }

    private func fail(_ error: Error) {
        finished = true
        promise.fail(error)
    }
}
