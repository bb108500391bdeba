import CHerzQUIC
import Foundation
import HerzCore
import NIOCore

/// Packets an endpoint sends without keeping any state: Version Negotiation, Retry, stateless
/// reset and the CONNECTION_CLOSE that refuses an Initial. Each answer is no larger than the
/// datagram that caused it (Retry, close) or smaller (reset), so Herz never amplifies.
extension QUICEndpoint {
    func sendVersionNegotiation(destination: QUICConnectionID, source: QUICConnectionID, to remote: SocketAddress) {
        var versions: [UInt32] = [QUICDatagramTriage.quicV1, 0x1a2a_3a4a]  // v1 + a greased version (RFC 9000 §6.3)
        let dcid = source.bytes, scid = destination.bytes  // echoed, swapped (RFC 9000 §17.2.1)
        writeStateless(.versionNegotiationSent, to: remote) { out in
            ngtcp2_pkt_write_version_negotiation(out.baseAddress, out.count, UInt8.random(in: 0...255), dcid, dcid.count,
                                                 scid, scid.count, &versions, versions.count)
        }
    }

    func sendRetry(for header: ngtcp2_pkt_hd, to remote: SocketAddress, triggerSize: Int) {
        var header = header
        var retryID = makeConnectionID().ngtcp2
        var token = [UInt8](repeating: 0, count: 256)
        let tokenLength = remote.withSockAddr { address, length in
            ngtcp2_crypto_generate_retry_token(&token, parameters.staticSecret, parameters.staticSecret.count, header.version,
                                               address, ngtcp2_socklen(length), &retryID, &header.dcid, Self.wallClock())
        }
        guard tokenLength > 0 else { return }
        writeStateless(.retrySent, to: remote, limit: triggerSize) { out in
            ngtcp2_crypto_write_retry(out.baseAddress, out.count, header.version, &header.scid, &retryID, &header.dcid,
                                      token, Int(tokenLength))
        }
    }

    /// The client's original destination ID from a valid Retry token (bound to its address, at
    /// most 10 s old), or nil.
    func verifyRetryToken(_ header: ngtcp2_pkt_hd, from remote: SocketAddress) -> ngtcp2_cid? {
        var header = header
        var original = ngtcp2_cid()
        let rv = remote.withSockAddr { address, length in
            ngtcp2_crypto_verify_retry_token(&original, header.token.base, header.token.len, parameters.staticSecret,
                                             parameters.staticSecret.count, header.version, address, ngtcp2_socklen(length),
                                             &header.dcid, 10 * 1_000_000_000, Self.wallClock())
        }
        return rv == 0 ? original : nil
    }

    /// A NEW_TOKEN token for a client at `remote`, or nil when tokens are off. Bound to the IP
    /// address only (the port is zeroed): a client's next connection comes from a new port.
    func makeAddressToken(for remote: SocketAddress) -> [UInt8]? {
        guard parameters.quic.newTokenLifetime > .zero else { return nil }
        // NGTCP2_CRYPTO_MAX_REGULAR_TOKENLEN (57 in 0.12) is a compound macro Swift cannot import.
        var token = [UInt8](repeating: 0, count: 128)
        let length = Self.withoutPort(remote).withSockAddr { address, length in
            ngtcp2_crypto_generate_regular_token(&token, parameters.staticSecret, parameters.staticSecret.count, address,
                                                 ngtcp2_socklen(length), Self.wallClock())
        }
        guard length > 0 else { return nil }
        return Array(token.prefix(Int(length)))
    }

    /// Whether the Initial's NEW_TOKEN token is one of this listener's (same secret), for this
    /// client's IP address, and younger than `quic.new_token_lifetime`.
    func verifyAddressToken(_ header: ngtcp2_pkt_hd, from remote: SocketAddress) -> Bool {
        let lifetime = parameters.quic.newTokenLifetime
        guard lifetime > .zero else { return false }
        let rv = Self.withoutPort(remote).withSockAddr { address, length in
            ngtcp2_crypto_verify_regular_token(header.token.base, header.token.len, parameters.staticSecret,
                                               parameters.staticSecret.count, address, ngtcp2_socklen(length),
                                               UInt64(lifetime.nanoseconds), Self.wallClock())
        }
        return rv == 0
    }

    private static func withoutPort(_ address: SocketAddress) -> SocketAddress {
        var address = address
        if address.port != nil { address.port = 0 }
        return address
    }

    func sendStatelessClose(for header: ngtcp2_pkt_hd, error: UInt64, to remote: SocketAddress) {
        var header = header
        writeStateless(nil, to: remote) { out in
            ngtcp2_crypto_write_connection_close(out.baseAddress, out.count, header.version, &header.scid, &header.dcid, error, nil, 0)
        }
    }

    func sendStatelessReset(for id: QUICConnectionID, triggerSize: Int, to remote: SocketAddress) {
        var cid = id.ngtcp2
        var token = [UInt8](repeating: 0, count: Int(NGTCP2_STATELESS_RESET_TOKENLEN))
        guard (try? writeStatelessResetToken(into: &token, for: cid)) != nil else { return }
        // Smaller than the trigger (so two endpoints can never loop), at most 43 bytes like ngtcp2's example.
        let size = min(triggerSize - 1, 43)
        let random = QUICRandom.bytes(size - 1 - Int(NGTCP2_STATELESS_RESET_TOKENLEN))
        writeStateless(.statelessResetSent, to: remote, limit: size) { out in
            ngtcp2_pkt_write_stateless_reset(out.baseAddress, out.count, token, random, random.count)
        }
    }

    /// The stateless reset token of `cid`: derived from the listener's secret, so any worker (and
    /// the connection itself, in its transport parameters) computes the same one.
    func writeStatelessResetToken(into token: UnsafeMutablePointer<UInt8>, for cid: ngtcp2_cid) throws {
        var cid = cid
        let rv = ngtcp2_crypto_generate_stateless_reset_token(token, parameters.staticSecret, parameters.staticSecret.count, &cid)
        if rv != 0 { throw QUICError.ngtcp2(function: "ngtcp2_crypto_generate_stateless_reset_token", code: rv) }
    }

    func writeStatelessResetToken<Token>(into token: inout Token, for cid: ngtcp2_cid) throws {
        try withUnsafeMutableBytes(of: &token) { bytes in
            try writeStatelessResetToken(into: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), for: cid)
        }
    }

    private func writeStateless(_ event: QUICEndpointEvent?, to remote: SocketAddress, limit: Int = 1200,
                                _ write: (UnsafeMutableBufferPointer<UInt8>) -> ngtcp2_ssize) {
        var buffer = allocator.buffer(capacity: limit)
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: limit) { raw in
            let out = UnsafeMutableBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: min(limit, raw.count))
            let n = write(out)
            return n > 0 ? Int(n) : 0
        }
        guard written > 0 else { return }
        if let event { observer?.quicEvent(event, listener: parameters.listenerName) }
        send(buffer, to: remote)
    }

    /// Retry tokens carry wall-clock time (they must stay valid across workers and be checkable
    /// for age), in nanoseconds as ngtcp2 expects.
    static func wallClock() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
    }
}
