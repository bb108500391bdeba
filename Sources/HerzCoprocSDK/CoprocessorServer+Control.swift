import Glibc

/// The ZeroMQ control socket (docs/coprocessor-protocol.md section 5), on the main thread.
extension CoprocessorServer {
    /// Answers every queued control message.
    func serveControl(_ router: ZMQSocket) throws {
        while let (identity, frame) = try router.receiveRouted() {
            let message: ControlMessage
            do {
                message = try frame.withUnsafeBytes(WireCodec.decodeControl)
            } catch {
                logger.error("coprocessor \(name): undecodable control message: \(error)")
                continue
            }
            if let reply = handle(message, from: identity) {
                try router.send(identity: identity, frame: WireCodec.encode(reply))
            }
        }
    }

    private func handle(_ message: ControlMessage, from identity: [UInt8]) -> ControlMessage? {
        switch message {
        case .hello(let hello):
            return handshake(hello, from: identity)
        case .heartbeat(let sequence, let sentNanos):
            return .heartbeatAck(sequence: sequence, sentNanos: sentNanos)
        case .drain(let deadlineMillis):
            let deadline = MonotonicClock.nanos() + UInt64(deadlineMillis) * 1_000_000
            let matching = sessions.values.filter { $0.controlIdentity == identity }
            if matching.isEmpty { logger.warning("coprocessor \(name): drain from a peer without a session") }
            for session in matching { session.drainDeadline = deadline }
            return nil
        case .statsRequest:
            return .stats(counters.stats())
        case .reload(let payload):
            do {
                return .reloadResult(ok: true, message: try filter.reload(payload: payload))
            } catch {
                logger.error("coprocessor \(name): reload failed: \(error)")
                return .reloadResult(ok: false, message: "\(error)")
            }
        case .refuse(let reason):
            logger.error("coprocessor \(name): the kernel refused the handshake: \(reason)")
            for (id, session) in sessions where session.controlIdentity == identity { closeSession(id, why: "refused by the kernel") }
            return nil
        case .heartbeatAck, .drained, .stats, .reloadResult:
            logger.warning("coprocessor \(name): unexpected control message from the kernel: \(message)")
            return nil
        }
    }

    private func handshake(_ hello: Hello, from identity: [UInt8]) -> ControlMessage {
        let session = sessions[hello.sessionId]
        if let reason = HelloCheck.refusal(of: hello, name: name, sessionAttached: session != nil) {
            logger.error("\(reason)")
            closeSession(hello.sessionId, why: "handshake refused")
            return .refuse(reason: reason)
        }
        session?.controlIdentity = identity
        return .hello(Hello(name: name, buildVersion: buildVersion, capabilities: filter.capabilities,
                            pid: UInt32(getpid()), sessionId: hello.sessionId, generation: generation))
    }

    /// Sends `drained` for every session whose drain completed (nothing unanswered) or timed out.
    func finishDrains(_ router: ZMQSocket) throws {
        let now = MonotonicClock.nanos()
        for session in sessions.values {
            guard let deadline = session.drainDeadline, let identity = session.controlIdentity else { continue }
            let unanswered = session.unansweredWork
            guard unanswered == 0 || now >= deadline else { continue }
            session.drainDeadline = nil
            drainedOnce = true
            try router.send(identity: identity, frame: WireCodec.encode(.drained(inFlight: UInt32(unanswered))))
        }
    }
}
