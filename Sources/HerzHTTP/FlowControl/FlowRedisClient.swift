import NIOCore
import NIOPosix

/// Why a Redis call did not get a reply.
enum FlowRedisCallError: Error, Equatable, Sendable {
    /// No reply within the call timeout (the reply, if it ever comes, is dropped).
    case timeout
    /// Not connected: connect failed or timed out, the connection was lost, or the client is
    /// backing off before reconnecting, or closed.
    case unavailable
    /// The connection's pipeline is full (``FlowRedisConfiguration/maxPipeline``).
    case overloaded
    /// The server answered with an error (`-ERR …`, `-BUSY …`, `-LOADING …`).
    case errorReply(String)
}

/// A minimal RESP2 client for one event loop: the global limiter's only way to Redis.
///
/// Hand-written because no Redis client package is among the Swift packages this project can
/// resolve (offline mirror of vetted packages), and the limiter needs little: one connection,
/// pipelined commands, `EVALSHA`/`EVAL`, deadlines. What it guarantees:
/// - every call completes exactly once, on the event loop, at the latest at its deadline
///   (`callTimeout` after the call), and a reply read after the deadline counts as a timeout (a
///   grant is never used later than the limiter's bound assumes); a failure known at once (backing off, pipeline full, closed)
///   completes before ``call(_:completion:)`` returns;
/// - bounded memory: at most ``FlowRedisConfiguration/maxPipeline`` commands queued or unanswered;
///   a timed-out command keeps only a placeholder until its reply (or the connection) goes, and a
///   connection whose oldest command is overdue by ``FlowRedisConfiguration/stallTimeout`` is closed;
/// - one connection, made lazily on the first call and again after a loss, never sooner than the
///   backoff allows (10 ms doubling to 1 s by default); `AUTH` and `SCRIPT LOAD` go first on it;
/// - script calls use `EVALSHA` once the script's SHA is known and fall back to `EVAL` on `NOSCRIPT`
///   (a restarted or flushed server), within the same deadline;
/// - nothing the server sends can crash the process: replies go through ``RESPParser``'s limits, a
///   reply nobody asked for closes the connection.
///
/// Event-loop owned: every method must be called on ``eventLoop``.
final class FlowRedisClient: FlowRedisReplyReceiver {
    typealias Completion = (Result<RESPValue, FlowRedisCallError>) -> Void

    /// A command queued or written, in reply order.
    private struct Command {
        enum Purpose {
            case call
            case auth
            case scriptLoad
        }

        var parts: [String]
        let purpose: Purpose
        let deadline: NIODeadline
        /// Nil once answered by a timeout: the reply is then dropped when it comes.
        var completion: Completion?
        /// For `EVALSHA`: the script's keys and arguments, to send again as `EVAL` after `NOSCRIPT`.
        var script: (keys: [String], arguments: [String])?
    }

    private enum State {
        case idle
        case connecting
        case connected(Channel)
        case backingOff(until: NIODeadline)
        case closed
    }

    let eventLoop: EventLoop
    let configuration: FlowRedisConfiguration
    let callTimeout: TimeAmount
    /// The Lua source ``evalScript(keys:arguments:completion:)`` runs.
    let script: String
    private var state = State.idle
    private var unsent = CircularBuffer<Command>()
    private var unanswered = CircularBuffer<Command>()
    private(set) var scriptSHA: String?
    private var backoff: TimeAmount
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var flushScheduled = false

    init(configuration: FlowRedisConfiguration, callTimeout: TimeAmount, script: String, eventLoop: EventLoop) {
        self.configuration = configuration
        self.callTimeout = callTimeout
        self.script = script
        self.eventLoop = eventLoop
        self.backoff = configuration.reconnectBackoffInitial
    }

    /// Commands queued or unanswered (for tests and metrics).
    var pipelineDepth: Int { unsent.count + unanswered.count }

    var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }

    /// Runs ``script`` with `keys` and `arguments` (`EVALSHA`, or `EVAL` until the SHA is known).
    func evalScript(keys: [String], arguments: [String], completion: @escaping Completion) {
        let head = scriptSHA.map { ["EVALSHA", $0] } ?? ["EVAL", script]
        enqueue(Command(parts: head + [String(keys.count)] + keys + arguments, purpose: .call, deadline: .now() + callTimeout,
                        completion: completion, script: scriptSHA == nil ? nil : (keys, arguments)))
    }

    /// Sends any command (`PING`, `SCRIPT FLUSH` …).
    func call(_ parts: [String], completion: @escaping Completion) {
        enqueue(Command(parts: parts, purpose: .call, deadline: .now() + callTimeout, completion: completion))
    }

    /// Fails what is pending with `unavailable`, closes the connection; later calls fail at once.
    func close() {
        eventLoop.assertInEventLoop()
        if case .connected(let channel) = state { channel.close(promise: nil) }
        state = .closed
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        failAll(.unavailable)
    }

    // MARK: - Queueing

    private func enqueue(_ command: Command) {
        eventLoop.assertInEventLoop()
        if case .backingOff(let until) = state, NIODeadline.now() >= until { state = .idle }
        switch state {
        case .closed, .backingOff:
            command.completion?(.failure(.unavailable))
            return
        case _ where pipelineDepth >= configuration.maxPipeline:
            command.completion?(.failure(.overloaded))
            return
        case .idle:
            unsent.append(command)
            connect()
        case .connecting:
            unsent.append(command)
        case .connected(let channel):
            write(command, on: channel)
        }
        armTimer(command.deadline)
    }

    private func write(_ command: Command, on channel: Channel) {
        unanswered.append(command)
        channel.write(RESPCommand.encode(command.parts, allocator: channel.allocator), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.execute { [self] in   // one flush for every command written in this loop tick
            flushScheduled = false
            if case .connected(let channel) = state { channel.flush() }
        }
    }

    // MARK: - Connection

    private func connect() {
        state = .connecting
        ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FlowRedisChannelHandler(receiver: self))
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .whenComplete { [self] result in connected(result) }
    }

    private func connected(_ result: Result<Channel, Error>) {
        guard case .connecting = state else {
            if case .success(let channel) = result { channel.close(promise: nil) }   // closed meanwhile
            return
        }
        guard case .success(let channel) = result, channel.isActive else {   // refused, timed out, or gone already
            let failed = drain(&unsent)
            enterBackoff()
            failed.forEach { $0(.failure(.unavailable)) }
            return
        }
        state = .connected(channel)
        backoff = configuration.reconnectBackoffInitial
        let setupDeadline = NIODeadline.now() + callTimeout
        if let password = configuration.password {
            write(Command(parts: ["AUTH"] + (configuration.username.map { [$0] } ?? []) + [password], purpose: .auth,
                          deadline: setupDeadline), on: channel)
        }
        write(Command(parts: ["SCRIPT", "LOAD", script], purpose: .scriptLoad, deadline: setupDeadline), on: channel)
        while let command = unsent.popFirst() {
            if command.completion != nil { write(command, on: channel) }
        }
    }

    private func enterBackoff() {
        state = .backingOff(until: .now() + backoff)
        backoff = min(backoff * 2, configuration.reconnectBackoffMax)
    }

    // MARK: - Replies (from FlowRedisChannelHandler)

    func received(_ reply: RESPValue, on channel: Channel) {
        guard case .connected(let current) = state, current === channel else { return }
        guard var command = unanswered.popFirst() else {
            channel.close(promise: nil)   // a reply to nothing: the stream is out of step
            return
        }
        switch command.purpose {
        case .auth:
            if case .error = reply { channel.close(promise: nil) }
        case .scriptLoad:
            if let sha = reply.string, sha.utf8.count == 40 { scriptSHA = sha }
        case .call:
            guard let completion = command.completion else { return }
            guard NIODeadline.now() <= command.deadline else {   // read in the same tick as the deadline passed: still late
                completion(.failure(.timeout))
                return
            }
            if case .error(let message) = reply, message.hasPrefix("NOSCRIPT"), let script = command.script {
                command.parts = ["EVAL", self.script, String(script.keys.count)] + script.keys + script.arguments
                command.script = nil
                write(command, on: channel)
                return
            }
            if case .error(let message) = reply {
                completion(.failure(.errorReply(message)))
            } else {
                completion(.success(reply))
            }
        }
    }

    func protocolError(_ error: Error, on channel: Channel) {}   // the handler closes; closed(_:) follows

    func closed(_ channel: Channel) {
        guard case .connected(let current) = state, current === channel else { return }
        enterBackoff()
        failAll(.unavailable)
    }

    // MARK: - Deadlines

    private func armTimer(_ deadline: NIODeadline) {
        if let armed = timerDeadline, armed <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = eventLoop.scheduleTask(deadline: deadline) { [self] in timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        let now = NIODeadline.now()
        var expired = expire(&unsent, now: now)
        unsent.removeAll { $0.completion == nil }
        expired += expire(&unanswered, now: now)
        if case .connected(let channel) = state, let oldest = unanswered.first, oldest.deadline + configuration.stallTimeout <= now {
            channel.close(promise: nil)
        }
        let next = (unsent + unanswered).lazy.filter { $0.completion != nil }.map(\.deadline).min()
        let stall = unanswered.first.map { $0.deadline + configuration.stallTimeout }
        if let soonest = [next, stall].compactMap({ $0 }).min() { armTimer(soonest) }
        expired.forEach { $0(.failure(.timeout)) }
    }

    /// Takes the completions of commands past their deadline (their entries stay, answered).
    private func expire(_ queue: inout CircularBuffer<Command>, now: NIODeadline) -> [Completion] {
        var expired: [Completion] = []
        for index in queue.indices where queue[index].deadline <= now {
            if let completion = queue[index].completion { expired.append(completion) }
            queue[index].completion = nil
        }
        return expired
    }

    private func drain(_ queue: inout CircularBuffer<Command>) -> [Completion] {
        defer { queue.removeAll() }
        return queue.compactMap(\.completion)
    }

    private func failAll(_ error: FlowRedisCallError) {
        let failed = drain(&unsent) + drain(&unanswered)
        failed.forEach { $0(.failure(error)) }
    }
}
