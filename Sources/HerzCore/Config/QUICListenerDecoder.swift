import Foundation
import Yams

/// Decodes a listener's `quic:` block (only allowed with `protocol: quic`).
enum QUICListenerDecoder {
    static let keys = ["retry", "retry_threshold", "max_connections", "stateless_reset", "stream_window_bytes", "secret_file", "new_token_lifetime", "early_data", "qlog_dir", "qlog_max_files"]

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
        if let early = map.bool("early_data") { quic.earlyData = early }
        if let dir = map.string("qlog_dir") {
            let path = map.context.resolvePath(dir)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                quic.qlogDirectory = path
            } else {
                map.context.report(.invalidValue(field: map.field("qlog_dir"), value: path, reason: "not an existing directory"),
                                   at: map["qlog_dir"])
            }
        }
        if let n = map.int("qlog_max_files", range: 1...1_000_000) { quic.qlogMaxFiles = n }
        if let file = map.string("secret_file") { quic.secret = secret(file, map) }
        if let lifetime = map.duration("new_token_lifetime") {
            if lifetime > .hours(24 * 7) {
                map.context.report(.invalidValue(field: map.field("new_token_lifetime"), value: DurationParser.format(lifetime),
                                                 reason: "must be at most 7 days (168h)"), at: map["new_token_lifetime"])
            } else {
                quic.newTokenLifetime = lifetime
            }
        }
    }

    private static func secret(_ file: String, _ map: YAMLMap) -> QUICTokenSecret? {
        let path = map.context.resolvePath(file)
        guard let data = FileManager.default.contents(atPath: path) else {
            map.context.report(.fileNotFound(field: map.field("secret_file"), path: path), at: map["secret_file"])
            return nil
        }
        guard (QUICTokenSecret.minimumBytes...QUICTokenSecret.maximumBytes).contains(data.count) else {
            map.context.report(.invalidValue(field: map.field("secret_file"), value: path,
                                             reason: "holds \(data.count) bytes; needs \(QUICTokenSecret.minimumBytes) to \(QUICTokenSecret.maximumBytes) (e.g. head -c 32 /dev/urandom > FILE)"),
                               at: map["secret_file"])
            return nil
        }
        return QUICTokenSecret(file: file, bytes: [UInt8](data))
    }
}
