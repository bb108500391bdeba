import HerzCore
import NIOCore
import NIOPosix
import XCTest

@testable import HerzHTTP

/// One ``FlowGlobalLimiter`` per event loop of a group, for tests: one global limit
/// `rule "g"` built from a limit block, asked from the test thread or driven as a load.
final class FlowGlobalLimiterHarness {
    let group: MultiThreadedEventLoopGroup
    let limiters: [FlowGlobalLimiter]
    let handle: FlowGlobalLimitHandle

    /// A decision and how long it took from the ask.
    struct Answer {
        let decision: FlowGlobalDecision
        let nanos: UInt64
        /// When it was answered (uptime nanoseconds, the clock every process on the machine shares).
        let at: UInt64
    }

    init(limit: String, port: Int, loops: Int = 1, configuration: FlowGlobalConfiguration = FlowGlobalConfiguration(),
         store: (inout FlowRedisConfiguration) -> Void = { _ in }) throws {
        let rules = try FlowRules.parse(source: "rule \"g\" { match: true\n limit: \(limit) }", file: "test.flow")
        var redis = FlowRedisConfiguration(port: port)
        store(&redis)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        self.group = group
        let redisConfiguration = redis
        let limiters = try group.makeIterator().map { loop in
            try loop.submit { FlowGlobalLimiter(rules: rules, store: redisConfiguration, configuration: configuration, eventLoop: loop) }.wait()
        }
        self.limiters = limiters
        guard let handle = limiters[0].snapshot.limits.first.flatMap({ limiters[0].handle(for: $0.id) }) else {
            throw RedisServerError.noPort
        }
        self.handle = handle
    }

    deinit {
        for limiter in limiters { try? limiter.eventLoop.submit { limiter.shutdown() }.wait() }
        try? group.syncShutdownGracefully()
    }

    /// Asks limiter `index` for `key` and waits for the answer.
    func acquire(_ key: String, on index: Int = 0) throws -> Answer {
        let limiter = limiters[index], handle = self.handle
        let promise = limiter.eventLoop.makePromise(of: Answer.self)
        limiter.eventLoop.execute {
            let start = NIODeadline.now().uptimeNanoseconds
            let answer = { (decision: FlowGlobalDecision) in
                let now = NIODeadline.now().uptimeNanoseconds
                promise.succeed(Answer(decision: decision, nanos: now - start, at: now))
            }
            if case .decided(let decision) = limiter.acquire(handle, key: key, completion: answer) { answer(decision) }
        }
        return try promise.futureResult.wait()
    }

    /// Every limiter asks for `key` every `interval` for `duration`, without waiting for answers;
    /// the future has every answer.
    func load(key: String, interval: TimeAmount, duration: TimeAmount) -> EventLoopFuture<[Answer]> {
        let futures = limiters.map { limiter -> EventLoopFuture<[Answer]> in
            let handle = self.handle
            let promise = limiter.eventLoop.makePromise(of: [Answer].self)
            limiter.eventLoop.execute {
                var answers: [Answer] = []
                var outstanding = 0
                var finished = false
                let end = NIODeadline.now() + duration
                func finishIfDone() {
                    if finished, outstanding == 0 { promise.succeed(answers) }
                }
                limiter.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { task in
                    guard NIODeadline.now() < end else {
                        task.cancel()
                        finished = true
                        finishIfDone()
                        return
                    }
                    let start = NIODeadline.now().uptimeNanoseconds
                    let record = { (decision: FlowGlobalDecision) in
                        let now = NIODeadline.now().uptimeNanoseconds
                        answers.append(Answer(decision: decision, nanos: now - start, at: now))
                    }
                    outstanding += 1
                    switch limiter.acquire(handle, key: key, completion: { record($0); outstanding -= 1; finishIfDone() }) {
                    case .decided(let decision):
                        record(decision)
                        outstanding -= 1
                    case .pending: break
                    }
                }
            }
            return promise.futureResult
        }
        return EventLoopFuture.whenAllSucceed(futures, on: group.next()).map { $0.flatMap { $0 } }
    }
}
