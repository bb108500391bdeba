import HerzCore
import HerzQUIC
import Prometheus

/// Prometheus counters of one QUIC listener, shared by its workers' endpoints (Prometheus
/// counters and gauges are atomic; handles are made once, at bind time, so the hot path takes no
/// registry lock).
final class QUICMetrics: QUICEndpointObserver, @unchecked Sendable {
    private let datagramsIn, datagramsOut, bytesIn, bytesOut: Counter
    private let dropped: [QUICDropReason: Counter]
    private let connections, handshakesOK, handshakesFailed, idleTimeouts, streams: Counter
    private let retries, versionNegotiations, statelessResets, refused: Counter
    private let tokensIssued, tokensAccepted, tokensRejected: Counter
    private let earlyData: [QUICEarlyDataOutcome: Counter]
    private let activeConnections: Gauge
    private let rtt: DurationHistogram
    private let streamPacketsLost: Counter

    init(registry: PrometheusCollectorRegistry, listener: String) {
        func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
                                 labels: [("listener", listener)] + labels)
        }
        datagramsIn = counter("herz_quic_datagrams_total", "UDP datagrams by direction", [("direction", "in")])
        datagramsOut = counter("herz_quic_datagrams_total", "UDP datagrams by direction", [("direction", "out")])
        bytesIn = counter("herz_quic_bytes_total", "UDP payload bytes by direction", [("direction", "in")])
        bytesOut = counter("herz_quic_bytes_total", "UDP payload bytes by direction", [("direction", "out")])
        var dropped: [QUICDropReason: Counter] = [:]
        for reason in QUICDropReason.allCases {
            dropped[reason] = counter("herz_quic_datagrams_dropped_total", "Datagrams dropped without state, by reason",
                                      [("reason", reason.rawValue)])
        }
        self.dropped = dropped
        connections = counter("herz_quic_connections_total", "QUIC connections accepted")
        handshakesOK = counter("herz_quic_handshakes_total", "QUIC handshakes by result", [("result", "ok")])
        handshakesFailed = counter("herz_quic_handshakes_total", "QUIC handshakes by result", [("result", "failed")])
        idleTimeouts = counter("herz_quic_idle_timeouts_total", "QUIC connections closed by the idle timeout")
        streams = counter("herz_quic_streams_total", "HTTP/3 request streams")
        retries = counter("herz_quic_stateless_packets_total", "Packets sent without connection state", [("kind", "retry")])
        versionNegotiations = counter("herz_quic_stateless_packets_total", "Packets sent without connection state",
                                      [("kind", "version_negotiation")])
        statelessResets = counter("herz_quic_stateless_packets_total", "Packets sent without connection state", [("kind", "stateless_reset")])
        tokensIssued = counter("herz_quic_address_tokens_total", "NEW_TOKEN tokens by outcome", [("result", "issued")])
        tokensAccepted = counter("herz_quic_address_tokens_total", "NEW_TOKEN tokens by outcome", [("result", "accepted")])
        tokensRejected = counter("herz_quic_address_tokens_total", "NEW_TOKEN tokens by outcome", [("result", "rejected")])
        var earlyData: [QUICEarlyDataOutcome: Counter] = [:]
        for outcome in QUICEarlyDataOutcome.allCases {
            earlyData[outcome] = counter("herz_quic_early_data_total", "0-RTT outcomes", [("result", outcome.rawValue)])
        }
        self.earlyData = earlyData
        refused = counter("herz_quic_connections_refused_total", "Initials refused (connection limit, draining)")
        streamPacketsLost = counter("herz_quic_stream_packets_lost_total",
                                    "Packets with stream data declared lost and retransmitted (counted when the stream closes)")
        rtt = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "herz_quic_smoothed_rtt", unitName: "seconds",
                                             helpText: "Smoothed RTT of QUIC connections when they close"),
            labels: [("listener", listener)], buckets: MetricsRegistry.latencyBuckets)
        activeConnections = registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: "herz_quic_connections_active", unitName: "", helpText: "Open QUIC connections"),
            labels: [("listener", listener)])
    }

    func quicEvent(_ event: QUICEndpointEvent, listener: String) {
        switch event {
        case .datagramReceived(let bytes): datagramsIn.increment(); bytesIn.increment(by: Int64(bytes))
        case .datagramSent(let bytes): datagramsOut.increment(); bytesOut.increment(by: Int64(bytes))
        case .datagramDropped(let reason): dropped[reason]?.increment()
        case .connectionOpened: connections.increment(); activeConnections.increment()
        case .connectionClosed: activeConnections.decrement()
        case .handshakeSucceeded: handshakesOK.increment()
        case .handshakeFailed: handshakesFailed.increment()
        case .retrySent: retries.increment()
        case .versionNegotiationSent: versionNegotiations.increment()
        case .statelessResetSent: statelessResets.increment()
        case .connectionRefused: refused.increment()
        case .idleTimeout: idleTimeouts.increment()
        case .streamOpened: streams.increment()
        case .addressTokenIssued: tokensIssued.increment()
        case .addressTokenChecked(let valid): (valid ? tokensAccepted : tokensRejected).increment()
        case .earlyData(let outcome): earlyData[outcome]?.increment()
        case .connectionRTT(let nanos): rtt.recordNanoseconds(Int64(clamping: nanos))
        case .streamPacketsLost(let count): streamPacketsLost.increment(by: Int64(count))
        }
    }
}
