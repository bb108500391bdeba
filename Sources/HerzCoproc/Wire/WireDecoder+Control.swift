import CHerzCapnp

// Control and attach frames (control.capnp) ← the shim's flat views.
extension WireDecoder {
    func readControl() throws -> ControlMessage {
        var view = herz_control()
        try self.run { herz_dec_control(self.raw, &view, $0) }
        switch Int(view.which) {
        case HERZ_CONTROL_HELLO:
            return .hello(Hello(
                protocolVersion: view.protocolVersion, ringVersion: view.ringVersion, name: view.name.string,
                buildVersion: view.buildVersion.string,
                capabilities: try self.strings(HERZ_LIST_CAPABILITIES, count: view.capabilityCount),
                pid: view.pid, sessionId: view.sessionId, generation: view.generation))
        case HERZ_CONTROL_REFUSE:
            return .refuse(reason: view.text.string)
        case HERZ_CONTROL_HEARTBEAT:
            return .heartbeat(sequence: view.sequence, sentNanos: view.sentNanos)
        case HERZ_CONTROL_HEARTBEAT_ACK:
            return .heartbeatAck(sequence: view.sequence, sentNanos: view.sentNanos)
        case HERZ_CONTROL_DRAIN:
            return .drain(deadlineMillis: view.deadlineMillis)
        case HERZ_CONTROL_DRAINED:
            return .drained(inFlight: view.inFlight)
        case HERZ_CONTROL_STATS_REQUEST:
            return .statsRequest
        case HERZ_CONTROL_STATS:
            return .stats(CoprocStats(callsServed: view.callsServed, callsFailed: view.callsFailed, inFlight: view.inFlight,
                                      rssBytes: view.rssBytes, uptimeMillis: view.uptimeMillis))
        case HERZ_CONTROL_RELOAD:
            return .reload(payload: view.text.string)
        case HERZ_CONTROL_RELOAD_RESULT:
            return .reloadResult(ok: view.ok, message: view.text.string)
        default:
            throw unknownVariant("ControlMessage", view.which)
        }
    }

    func readAttachFrame() throws -> AttachFrame {
        var view = herz_attach_frame()
        try self.run { herz_dec_attach_frame(self.raw, &view, $0) }
        switch Int(view.which) {
        case HERZ_ATTACH_ATTACH:
            return .attach(sessionId: view.sessionId, layout: RingLayout(
                workers: view.workers, ringBytes: view.ringBytes, regionBytes: view.regionBytes,
                layoutVersion: view.layoutVersion))
        case HERZ_ATTACH_ACK:
            return .attachAck(AttachAck(sessionId: view.sessionId, ok: view.ok, error: view.error.string,
                                        controlEndpoint: view.controlEndpoint.string, pid: view.pid))
        default:
            throw unknownVariant("AttachFrame", view.which)
        }
    }
}
