// Swift mirrors of schemas/control.capnp: the attach frames on a coprocessor's unix socket and the
// messages on its ZeroMQ control socket.

/// Where the rings of one session live in the shared region (`RingLayout`).
public struct RingLayout: Equatable, Sendable {
    public var workers: UInt32
    public var ringBytes: UInt32
    public var regionBytes: UInt64
    public var layoutVersion: UInt32

    public init(workers: UInt32, ringBytes: UInt32, regionBytes: UInt64, layoutVersion: UInt32 = CoprocProtocol.layoutVersion) {
        self.workers = workers
        self.ringBytes = ringBytes
        self.regionBytes = regionBytes
        self.layoutVersion = layoutVersion
    }
}

/// The coprocessor's reply to `attach` (`AttachAck`).
public struct AttachAck: Equatable, Sendable {
    public var sessionId: UInt64
    public var ok: Bool
    public var error: String
    public var controlEndpoint: String
    public var pid: UInt32

    public init(sessionId: UInt64, ok: Bool, error: String = "", controlEndpoint: String = "", pid: UInt32 = 0) {
        self.sessionId = sessionId
        self.ok = ok
        self.error = error
        self.controlEndpoint = controlEndpoint
        self.pid = pid
    }
}

/// A frame on the attach socket (`AttachFrame`). `attach` travels with SCM_RIGHTS file descriptors.
public enum AttachFrame: Equatable, Sendable {
    case attach(sessionId: UInt64, layout: RingLayout)
    case attachAck(AttachAck)
}

/// The handshake both sides send (`Hello`).
public struct Hello: Equatable, Sendable {
    public var protocolVersion: UInt32
    public var ringVersion: UInt32
    public var name: String
    public var buildVersion: String
    public var capabilities: [String]
    public var pid: UInt32
    public var sessionId: UInt64
    public var generation: UInt64

    public init(protocolVersion: UInt32 = CoprocProtocol.controlVersion, ringVersion: UInt32 = CoprocProtocol.ringVersion,
                name: String, buildVersion: String, capabilities: [String] = [], pid: UInt32, sessionId: UInt64, generation: UInt64 = 0) {
        self.protocolVersion = protocolVersion
        self.ringVersion = ringVersion
        self.name = name
        self.buildVersion = buildVersion
        self.capabilities = capabilities
        self.pid = pid
        self.sessionId = sessionId
        self.generation = generation
    }
}

/// Figures a coprocessor reports on `statsRequest` (`Stats`).
public struct CoprocStats: Equatable, Sendable {
    public var callsServed: UInt64
    public var callsFailed: UInt64
    public var inFlight: UInt32
    public var rssBytes: UInt64
    public var uptimeMillis: UInt64

    public init(callsServed: UInt64 = 0, callsFailed: UInt64 = 0, inFlight: UInt32 = 0, rssBytes: UInt64 = 0, uptimeMillis: UInt64 = 0) {
        self.callsServed = callsServed
        self.callsFailed = callsFailed
        self.inFlight = inFlight
        self.rssBytes = rssBytes
        self.uptimeMillis = uptimeMillis
    }
}

/// One message on the ZeroMQ control socket (`ControlMessage`).
public enum ControlMessage: Equatable, Sendable {
    case hello(Hello)
    case refuse(reason: String)
    case heartbeat(sequence: UInt64, sentNanos: UInt64)
    case heartbeatAck(sequence: UInt64, sentNanos: UInt64)
    case drain(deadlineMillis: UInt32)
    case drained(inFlight: UInt32)
    case statsRequest
    case stats(CoprocStats)
    case reload(payload: String)
    case reloadResult(ok: Bool, message: String)
}
