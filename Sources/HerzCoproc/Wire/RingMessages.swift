import NIOCore

// Swift mirrors of schemas/ring.capnp: what travels on a shared-memory ring. `WireCodec` turns
// them into Cap'n Proto stream-framed bytes and back; nothing else in Herz sees the wire format.

/// One HTTP header field as carried on the wire (`Header` in ring.capnp). Request pseudo-headers are
/// fields named `:method`, `:path`, `:authority`, `:scheme`; the response status is `:status`.
public struct WireHeader: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Which filter callback a call carries (`Phase`).
public enum CallPhase: UInt16, Sendable, CaseIterable {
    case requestHeaders = 0, requestBody, requestTrailers, responseHeaders, responseBody, responseTrailers

    /// The name used in config (`phases:`) and capabilities (`phase:NAME`).
    public var configName: String {
        switch self {
        case .requestHeaders: return "request_headers"
        case .requestBody: return "request_body"
        case .requestTrailers: return "request_trailers"
        case .responseHeaders: return "response_headers"
        case .responseBody: return "response_body"
        case .responseTrailers: return "response_trailers"
        }
    }
}

/// Kernel → coprocessor: one filter callback of one stream (`Call`).
public struct CoprocCall: Equatable, Sendable {
    public var callId: UInt64
    public var streamId: UInt64
    /// CLOCK_MONOTONIC nanoseconds after which the kernel has given up on the answer.
    public var deadlineNanos: UInt64
    public var phase: CallPhase
    public var endStream: Bool
    public var headers: [WireHeader]
    public var body: ByteBuffer
    public var route: String
    /// The `coproc` filter's `settings` for the route, as JSON ("" when none).
    public var filterConfig: String

    public init(callId: UInt64, streamId: UInt64, deadlineNanos: UInt64, phase: CallPhase, endStream: Bool,
                headers: [WireHeader] = [], body: ByteBuffer = ByteBuffer(), route: String = "", filterConfig: String = "") {
        self.callId = callId
        self.streamId = streamId
        self.deadlineNanos = deadlineNanos
        self.phase = phase
        self.endStream = endStream
        self.headers = headers
        self.body = body
        self.route = route
        self.filterConfig = filterConfig
    }
}

/// A frame on a calls ring (`KernelToCoprocessor`).
public enum KernelToCoprocessor: Equatable, Sendable {
    case call(CoprocCall)
    /// The stream finished (or was reset): the coprocessor drops its state for it. Never answered.
    case streamEnd(streamId: UInt64, reset: Bool)
}

/// The statuses of ARCHITECTURE.md section 3 as a remote filter returns them for headers.
public enum RemoteHeadersStatus: UInt16, Sendable {
    case `continue` = 0, stopIteration, continueAndDontEndStream, stopAllIterationAndBuffer, stopAllIterationAndWatermark
}

/// Data statuses a remote filter returns for a body chunk.
public enum RemoteDataStatus: UInt16, Sendable {
    case `continue` = 0, stopIterationAndBuffer, stopIterationAndWatermark, stopIterationNoBuffer
}

/// Trailers statuses a remote filter returns.
public enum RemoteTrailersStatus: UInt16, Sendable {
    case `continue` = 0, stopIteration
}

/// Header edits a coprocessor asks for (`HeaderMutation`): `set` replaces all fields of a name,
/// `append` adds one, `remove` drops all fields of a name (case-insensitive).
public struct HeaderMutation: Equatable, Sendable {
    public var set: [WireHeader]
    public var append: [WireHeader]
    public var remove: [String]

    public init(set: [WireHeader] = [], append: [WireHeader] = [], remove: [String] = []) {
        self.set = set
        self.append = append
        self.remove = remove
    }

    public var isEmpty: Bool { self.set.isEmpty && self.append.isEmpty && self.remove.isEmpty }
}

/// A generated response that ends the stream (`LocalReply`). `reason` is short and never secret.
public struct CoprocLocalReply: Equatable, Sendable {
    public var status: UInt16
    public var headers: [WireHeader]
    public var body: ByteBuffer
    public var reason: String

    public init(status: UInt16, headers: [WireHeader] = [], body: ByteBuffer = ByteBuffer(), reason: String = "") {
        self.status = status
        self.headers = headers
        self.body = body
        self.reason = reason
    }
}

/// Why a coprocessor could not answer (`FailureKind`).
public enum CoprocFailureKind: UInt16, Sendable {
    case `internal` = 0, unsupported, overloaded, deadlineExceeded, badInput
}

/// What a coprocessor answered to one call (the union of `Answer`).
public enum AnswerResult: Equatable, Sendable {
    case headers(RemoteHeadersStatus, HeaderMutation)
    /// `body` non-nil means `replaceBody`: it replaces the chunk (may be empty).
    case data(RemoteDataStatus, body: ByteBuffer?)
    case trailers(RemoteTrailersStatus, HeaderMutation)
    case localReply(CoprocLocalReply)
    case failure(CoprocFailureKind, message: String)
}

/// A frame on an answers ring (`CoprocessorToKernel` holding one `Answer`).
public struct CoprocAnswer: Equatable, Sendable {
    public var callId: UInt64
    public var result: AnswerResult

    public init(callId: UInt64, result: AnswerResult) {
        self.callId = callId
        self.result = result
    }
}

/// Protocol versions this build speaks (the constants of ring.capnp and control.capnp).
public enum CoprocProtocol {
    public static let ringVersion: UInt32 = 1
    public static let controlVersion: UInt32 = 1
    public static let layoutVersion: UInt32 = 1

    /// The first protocol a peer's `hello` speaks in another version than this build: its name
    /// (`control`, `ring`), the peer's version and ours; nil when both match. Both sides of the
    /// handshake refuse on it, each phrasing its own log line.
    public static func versionMismatch(_ hello: Hello) -> (protocolName: String, peer: UInt32, ours: UInt32)? {
        if hello.protocolVersion != controlVersion { return ("control", hello.protocolVersion, controlVersion) }
        if hello.ringVersion != ringVersion { return ("ring", hello.ringVersion, ringVersion) }
        return nil
    }
}
