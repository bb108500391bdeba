import NIOCore

/// One listening socket and what serves on it.
public struct ListenerConfig: Sendable, Equatable {
    public enum ListenerProtocol: String, Sendable, Equatable {
        /// HTTP/1.1 and cleartext HTTP/2 (prior knowledge and `Upgrade: h2c`) on one port.
        case http
        /// TLS with ALPN `h2` / `http/1.1`.
        case https
        /// QUIC v1 + HTTP/3 over UDP (TLS 1.3, ALPN `h3`); see docs/http3.md.
        case quic
    }

    /// Unique name (defaults to the address as written).
    public var name: String
    public var address: HostPort
    public var `protocol`: ListenerProtocol
    public var tls: TLSConfig?
    /// The HTTP filters in order, without the terminal router.
    public var filters: [FilterConfig]
    /// The terminal `router` filter's config (required, last in `filters:` as written).
    public var router: RouterConfig
    public var limits: ListenerLimits
    /// QUIC transport settings (`protocol: quic` only).
    public var quic: QUICListenerConfig

    public init(name: String, address: HostPort, protocol: ListenerProtocol, tls: TLSConfig? = nil,
                filters: [FilterConfig] = [], router: RouterConfig, limits: ListenerLimits = ListenerLimits(),
                quic: QUICListenerConfig = QUICListenerConfig()) {
        self.name = name; self.address = address; self.protocol = `protocol`; self.tls = tls
        self.filters = filters; self.router = router; self.limits = limits; self.quic = quic
    }
}

/// Per-listener protections. Defaults follow Envoy's and nginx's.
public struct ListenerLimits: Sendable, Equatable {
    /// Largest request head (request line + headers) accepted; over it → 431.
    public var maxRequestHeadersBytes: Int = 60 * 1024
    /// Bytes the filter manager may buffer per direction per stream (`…AndBuffer` limit, watermark).
    public var bufferLimitBytes: Int = 1024 * 1024
    /// A connection with no request in flight and no bytes read is closed after this.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// A request whose head is not complete after this gets 408 and the connection closes (slowloris).
    public var requestHeadersTimeout: TimeAmount = .seconds(10)
    /// Whole-request deadline from first byte to last response byte; `nil` = none.
    public var requestTimeout: TimeAmount? = nil
    /// HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS; for HTTP/3 the QUIC `initial_max_streams_bidi`.
    public var maxConcurrentStreams: Int = 100
    public init() {}
}
