import HerzCore
import NIOCore

/// Everything a worker's QUIC endpoint needs to accept and run connections for one listener.
/// Immutable; shared by the endpoints of all workers.
public struct QUICConnectionParameters: @unchecked Sendable {
    public let listenerName: String
    /// The listener's certificate for new connections (swapped by a reload).
    public let credentials: QUICCredentialSlot
    public let quic: QUICListenerConfig
    /// HTTP/3 request streams a client may have open at once (QUIC `initial_max_streams_bidi`).
    public let maxConcurrentStreams: Int
    public let idleTimeout: TimeAmount
    /// Largest request header section (nghttp3's SETTINGS_MAX_FIELD_SECTION_SIZE).
    public let maxHeaderBytes: Int
    public let layout: QUICConnectionIDLayout
    /// Key for Retry tokens and stateless reset tokens: the listener's `quic.secret_file`, else
    /// random per kernel process (then a restart invalidates outstanding Retry tokens, which costs
    /// a client one more round trip, and its clients get resets they cannot recognise).
    let staticSecret: [UInt8]
    /// Session tickets (keyed from `staticSecret`) and, with `quic.early_data`, 0-RTT anti-replay.
    let resumption: QUICResumption
    /// qlog traces (`quic.qlog_dir`), nil when off.
    let qlog: QUICQlogSink?

    /// `observer` hears the listener-wide events (0-RTT replays refused).
    public init(listenerName: String, credentials: QUICCredentialSlot, quic: QUICListenerConfig, maxConcurrentStreams: Int,
                idleTimeout: TimeAmount, maxHeaderBytes: Int, layout: QUICConnectionIDLayout = QUICConnectionIDLayout(),
                observer: QUICEndpointObserver?) throws {
        self.listenerName = listenerName
        self.credentials = credentials
        self.quic = quic
        self.maxConcurrentStreams = maxConcurrentStreams
        self.idleTimeout = idleTimeout
        self.maxHeaderBytes = maxHeaderBytes
        self.layout = layout
        self.staticSecret = quic.secret?.bytes ?? QUICRandom.bytes(32)
        self.qlog = quic.qlogDirectory.map { QUICQlogSink(directory: $0, maxFiles: quic.qlogMaxFiles) }
        self.resumption = try QUICResumption(secret: staticSecret, earlyData: quic.earlyData, observer: observer,
                                             listenerName: listenerName)
    }

    /// Response bytes one stream may hold (unsent + unacknowledged) before the proxy is told to
    /// stop reading the upstream.
    var sendHighWatermark: Int { max(64 * 1024, quic.streamWindowBytes) }
    var connectionWindowBytes: Int { quic.streamWindowBytes * 16 }
}
