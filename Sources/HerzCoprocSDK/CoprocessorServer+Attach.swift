import Glibc

/// Session set-up on the attach socket (docs/coprocessor-protocol.md section 2), on the main thread.
extension CoprocessorServer {
    func acceptSessions(_ listener: AttachListener) {
        while true {
            let socket: AttachSocket?
            do { socket = try listener.accept() } catch {
                logger.error("coprocessor \(name): accept failed: \(error)")
                return
            }
            guard let socket else { return }
            attach(socket)
        }
    }

    private func attach(_ socket: AttachSocket) {
        var sessionId: UInt64 = 0
        do {
            try socket.setTimeout(millis: options.attachTimeoutMillis)
            let (frame, fds) = try socket.receiveFrame()
            guard case .attach(let id, let layout) = frame else {
                fds.forEach(socket.closeDescriptor)
                throw TransportError.invalidFrame("expected attach")
            }
            sessionId = id
            guard fds.count == 1 + Int(layout.workers) else {
                fds.forEach(socket.closeDescriptor)
                throw TransportError.invalidFrame("\(fds.count) descriptors for \(layout.workers) workers")
            }
            let doorbells = fds.dropFirst().map(Doorbell.init(fd:))
            let region = try SharedRegion.map(fd: fds[0], layout: layout)
            guard sessions[id] == nil else { throw TransportError.invalidFrame("session \(id) is already attached") }
            try socket.send(.attachAck(AttachAck(sessionId: id, ok: true, controlEndpoint: controlEndpoint, pid: UInt32(getpid()))))
            try socket.setTimeout(millis: 0)
            let stop = try StopSignal()
            sessions[id] = ServerSession(id: id, attach: socket, region: region, doorbells: doorbells, stop: stop) { index, doorbell in
                RingWorker(region: region, index: index, doorbell: doorbell, stop: stop, filter: filter, counters: counters,
                           spinMicros: options.spinMicros, wake: wake, logger: logger)
            }
            logger.info("coprocessor \(name): session \(id) attached (\(layout.workers) workers, \(layout.ringBytes)-byte rings)")
        } catch {
            logger.error("coprocessor \(name): attach of session \(sessionId) refused: \(error)")
            try? socket.send(.attachAck(AttachAck(sessionId: sessionId, ok: false, error: "\(error)", pid: UInt32(getpid()))))
            socket.close()
        }
    }
}
