import CHerzCapnp

// Control and attach frames (control.capnp) → the shim's flat views.
extension WireEncoder {
    func write(_ message: ControlMessage) throws {
        var view = herz_control()
        var name = ""
        var buildVersion = ""
        var text = ""
        var capabilities: [String] = []
        switch message {
        case .hello(let hello):
            view.which = UInt16(HERZ_CONTROL_HELLO)
            view.protocolVersion = hello.protocolVersion
            view.ringVersion = hello.ringVersion
            view.capabilityCount = wireCount(hello.capabilities.count)
            view.pid = hello.pid
            view.sessionId = hello.sessionId
            view.generation = hello.generation
            name = hello.name
            buildVersion = hello.buildVersion
            capabilities = hello.capabilities
        case .refuse(let reason):
            view.which = UInt16(HERZ_CONTROL_REFUSE)
            text = reason
        case .heartbeat(let sequence, let sentNanos):
            view.which = UInt16(HERZ_CONTROL_HEARTBEAT)
            view.sequence = sequence
            view.sentNanos = sentNanos
        case .heartbeatAck(let sequence, let sentNanos):
            view.which = UInt16(HERZ_CONTROL_HEARTBEAT_ACK)
            view.sequence = sequence
            view.sentNanos = sentNanos
        case .drain(let deadlineMillis):
            view.which = UInt16(HERZ_CONTROL_DRAIN)
            view.deadlineMillis = deadlineMillis
        case .drained(let inFlight):
            view.which = UInt16(HERZ_CONTROL_DRAINED)
            view.inFlight = inFlight
        case .statsRequest:
            view.which = UInt16(HERZ_CONTROL_STATS_REQUEST)
        case .stats(let stats):
            view.which = UInt16(HERZ_CONTROL_STATS)
            view.callsServed = stats.callsServed
            view.callsFailed = stats.callsFailed
            view.inFlight = stats.inFlight
            view.rssBytes = stats.rssBytes
            view.uptimeMillis = stats.uptimeMillis
        case .reload(let payload):
            view.which = UInt16(HERZ_CONTROL_RELOAD)
            text = payload
        case .reloadResult(let ok, let message):
            view.which = UInt16(HERZ_CONTROL_RELOAD_RESULT)
            view.ok = ok
            text = message
        }
        try withWireBytes(name, buildVersion, text) { name, buildVersion, text in
            view.name = name
            view.buildVersion = buildVersion
            view.text = text
            try self.run { herz_enc_control(self.raw, &view, $0) }
        }
        try self.write(capabilities, to: HERZ_LIST_CAPABILITIES)
    }

    func write(_ frame: AttachFrame) throws {
        var view = herz_attach_frame()
        var error = ""
        var controlEndpoint = ""
        switch frame {
        case .attach(let sessionId, let layout):
            view.which = UInt16(HERZ_ATTACH_ATTACH)
            view.sessionId = sessionId
            view.workers = layout.workers
            view.ringBytes = layout.ringBytes
            view.regionBytes = layout.regionBytes
            view.layoutVersion = layout.layoutVersion
        case .attachAck(let ack):
            view.which = UInt16(HERZ_ATTACH_ACK)
            view.sessionId = ack.sessionId
            view.ok = ack.ok
            view.pid = ack.pid
            error = ack.error
            controlEndpoint = ack.controlEndpoint
        }
        try withWireBytes(error, controlEndpoint, "") { error, controlEndpoint, _ in
            view.error = error
            view.controlEndpoint = controlEndpoint
            try self.run { herz_enc_attach_frame(self.raw, &view, $0) }
        }
    }
}
