import CHerzQUIC
import Foundation
import HerzCore
import NIOConcurrencyHelpers

/// Where a quic listener writes qlog traces (`quic.qlog_dir`): one `<original DCID>.sqlog` file
/// per connection (ngtcp2's JSON-SEQ qlog), for the first `quic.qlog_max_files` connections after
/// the listener starts — a debugging switch, bounded so that load cannot fill the disk. Shared by
/// the listener's workers.
public final class QUICQlogSink: @unchecked Sendable {
    public let directory: String
    private let remaining: NIOLockedValueBox<Int>

    public init(directory: String, maxFiles: Int) {
        self.directory = directory
        self.remaining = NIOLockedValueBox(maxFiles)
    }

    /// A new connection's qlog file, or nil when the budget is spent or the file cannot be made.
    func open(originalID: QUICConnectionID) -> QUICQlogFile? {
        guard remaining.withLockedValue({ left in
            guard left > 0 else { return false }
            left -= 1
            return true
        }) else { return nil }
        let name = originalID.bytes.map { String(format: "%02x", $0) }.joined()
        return QUICQlogFile(path: (directory as NSString).appendingPathComponent("\(name).sqlog"))
    }
}

/// One connection's qlog file: ngtcp2 hands it JSON-SEQ records as they happen (on the
/// connection's event loop); the last one carries NGTCP2_QLOG_WRITE_FLAG_FIN.
final class QUICQlogFile {
    private var file: UnsafeMutablePointer<FILE>?

    init?(path: String) {
        guard let file = fopen(path, "w") else { return nil }
        self.file = file
    }

    func write(_ data: UnsafeRawPointer, count: Int, final: Bool) {
        guard let file else { return }
        fwrite(data, 1, count, file)
        if final { close() }
    }

    func close() {
        if let file { fclose(file) }
        file = nil
    }

    deinit { close() }
}
