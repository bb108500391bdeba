import Yams

/// Decodes a listener's `quic:` block (only allowed with `protocol: quic`).
enum QUICListenerDecoder {
    static let keys = ["retry", "retry_threshold", "max_connections", "stateless_reset", "stream_window_bytes"]

    enum RetryChoice: String, CaseIterable { case off, always, under_load }

    static func decode(_ map: YAMLMap, into quic: inout QUICListenerConfig) {
        let threshold = map.int("retry_threshold", range: 1...1_000_000)
        switch map.choice("retry", as: RetryChoice.self) {
        case .off: quic.retry = .off
        case .always: quic.retry = .always
        case .under_load, nil:
            if case .underLoad(let current) = quic.retry { quic.retry = .underLoad(handshakes: threshold ?? current) }
        }
        if let n = map.int("max_connections", range: 1...10_000_000) { quic.maxConnections = n }
        if let b = map.bool("stateless_reset") { quic.statelessReset = b }
        if let n = map.byteSize("stream_window_bytes") {
            if n < 16 * 1024 || n > 64 * 1024 * 1024 {
                map.context.report(.invalidValue(field: map.field("stream_window_bytes"), value: "\(n)",
                                                 reason: "must be between 16KiB and 64MiB"), at: map["stream_window_bytes"])
            } else {
                quic.streamWindowBytes = n
            }
        }
    }
}
