import NIOCore

/// A whole, validated Herz configuration. Immutable once built: the kernel swaps whole snapshots,
/// so every worker sees either the old or the new config, never a mix.
///
/// Produced by ``ConfigLoader`` from YAML (or, later, from xDS resources); every reference inside
/// (route → cluster, filter type) has been checked.
public struct HerzConfig: Sendable, Equatable {
    public var admin: AdminConfig?
    public var listeners: [ListenerConfig]
    public var clusters: [ClusterConfig]
    public var coprocessors: [CoprocessorConfig]
    public var accessLog: AccessLogConfig?
    /// `flow_control:`: the flow-rules file, parsed and checked (nil when the config has none).
    public var flowControl: FlowControlConfig?
    /// `tracing:`: OTLP span export and sampling (nil: tracing off, trace headers pass untouched).
    public var tracing: TracingConfig?
    /// How long SIGTERM waits for in-flight requests before closing connections.
    public var drainTimeout: TimeAmount
    /// Where the config came from (a file path, or `<built-in>`), used in error messages.
    public var source: String

    public init(admin: AdminConfig? = nil, listeners: [ListenerConfig], clusters: [ClusterConfig],
                coprocessors: [CoprocessorConfig] = [], accessLog: AccessLogConfig? = nil,
                drainTimeout: TimeAmount = .seconds(10), source: String = "<built-in>") {
        self.admin = admin
        self.listeners = listeners
        self.clusters = clusters
        self.coprocessors = coprocessors
        self.accessLog = accessLog
        self.drainTimeout = drainTimeout
        self.source = source
    }
}

/// `host:port` as written in the config. `host` may be an IPv4/IPv6 literal or a name.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) { self.host = host; self.port = port }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct AdminConfig: Sendable, Equatable {
    public var address: HostPort
    public init(address: HostPort) { self.address = address }
}

public struct AccessLogConfig: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable { case json, envoy }
    /// `stdout`, `stderr` or a file path.
    public var path: String
    public var format: Format
    public init(path: String = "stdout", format: Format = .json) { self.path = path; self.format = format }
}

/// A coprocessor endpoint (used by the coprocessor runtime; parsed and validated here).
public struct CoprocessorConfig: Sendable, Equatable {
    public enum FailurePolicy: String, Sendable, Equatable { case failClosed = "fail_closed", failOpen = "fail_open", wait }
    public var name: String
    public var endpoint: String
    public var timeout: TimeAmount
    public var onFailure: FailurePolicy
    public var maxWait: TimeAmount
    /// Peer uids the kernel accepts on the coprocessor's socket (SO_PEERCRED); empty = the kernel's own uid.
    public var allowedUIDs: [UInt32] = []
    /// Bytes of each ring (one pair per worker): a power of two. A frame takes at most half a ring,
    /// so this bounds the body one call can carry (``maxCallBodyBytes``). Pages are touched lazily.
    public var ringBytes: Int = CoprocessorConfig.defaultRingBytes
    public static let defaultRingBytes = 4 << 20
    public static let ringBytesRange = 64 << 10 ... 1 << 30
    /// Room a body call keeps for everything but the body (ids, route, filter settings).
    public static let callOverheadBytes = 16 << 10

    /// Supervision clocks: a heartbeat every `heartbeatInterval`; a session that answers none for
    /// `hungAfter` is closed as hung (its calls get the failure policy) and reattached. The
    /// defaults detect a hang within 50 ms; an overloaded host may need more slack.
    public var heartbeatInterval: TimeAmount = .milliseconds(10)
    public var hungAfter: TimeAmount = .milliseconds(40)

    /// The largest body a `coproc` filter may send in one call to this coprocessor.
    public var maxCallBodyBytes: Int { ringBytes / 2 - 8 - Self.callOverheadBytes }
    public init(name: String, endpoint: String, timeout: TimeAmount = .milliseconds(50),
                onFailure: FailurePolicy = .failClosed, maxWait: TimeAmount = .seconds(1)) {
        self.name = name; self.endpoint = endpoint; self.timeout = timeout; self.onFailure = onFailure; self.maxWait = maxWait
    }

    /// Parses a kernel flag `NAME=unix:PATH` (`--coproc`) into a coprocessor with default timeout
    /// and policy; nil when it is not of that form.
    public static func parseFlag(_ flag: String) -> CoprocessorConfig? {
        guard let equals = flag.firstIndex(of: "=") else { return nil }
        let name = String(flag[..<equals]), endpoint = String(flag[flag.index(after: equals)...])
        guard !name.isEmpty, endpoint.hasPrefix("unix:"), endpoint.count > "unix:".count else { return nil }
        return CoprocessorConfig(name: name, endpoint: endpoint)
    }
}
