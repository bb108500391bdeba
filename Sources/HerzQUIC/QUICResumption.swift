import CHerzQUIC
import Foundation
import HerzCore
import NIOConcurrencyHelpers

/// A quic listener's TLS session resumption: the session ticket key every worker's sessions use
/// (derived from the listener's token secret) and, with `quic.early_data`, the 0-RTT anti-replay
/// state — GnuTLS' window check (10 s) plus a ``QUICReplayCache`` of the early-data ClientHellos
/// seen in it, shared by the workers behind a lock. Replays are refused early data per kernel
/// process; kernels sharing a secret do not share this cache (docs/http3.md says why that is
/// acceptable: only safe methods are forwarded from early data).
public final class QUICResumption: @unchecked Sendable {
    /// ClientHellos remembered per window; beyond it early data is refused, never replayed.
    public static let replayCacheCapacity = 100_000

    let state: UnsafeMutablePointer<herz_quic_resumption>
    private let replays = NIOLockedValueBox(QUICReplayCache(capacity: QUICResumption.replayCacheCapacity))
    private let observer: QUICEndpointObserver?
    private let listenerName: String

    /// `observer` hears ``QUICEndpointEvent/earlyData(_:)`` `.replayRefused` for each refusal.
    public init(secret: [UInt8], earlyData: Bool, observer: QUICEndpointObserver?, listenerName: String) throws {
        self.observer = observer
        self.listenerName = listenerName
        state = .allocate(capacity: 1)
        let record: gnutls_db_add_func = { pointer, expiry, key, _ in
            guard let pointer, let key else { return GNUTLS_E_DB_ERROR }
            let resumption = Unmanaged<QUICResumption>.fromOpaque(pointer).takeUnretainedValue()
            let bytes = [UInt8](UnsafeBufferPointer(start: key.pointee.data, count: Int(key.pointee.size)))
            return resumption.record(bytes, expiresAt: Int64(expiry)) ? 0 : GNUTLS_E_DB_ENTRY_EXISTS
        }
        let rv = herz_quic_resumption_init(state, secret, secret.count, earlyData ? 1 : 0, record,
                                           Unmanaged.passUnretained(self).toOpaque())
        if rv != 0 {
            state.deallocate()
            throw QUICError.tls(function: "herz_quic_resumption_init", message: QUICError.gnutlsMessage(rv))
        }
    }

    deinit {
        herz_quic_resumption_free(state)
        state.deallocate()
    }

    private func record(_ key: [UInt8], expiresAt: Int64) -> Bool {
        let now = Int64(Date().timeIntervalSince1970)
        let fresh = replays.withLockedValue { $0.insert(key, expiresAt: expiresAt, now: now) }
        if !fresh { observer?.quicEvent(.earlyData(.replayRefused), listener: listenerName) }
        return fresh
    }
}
