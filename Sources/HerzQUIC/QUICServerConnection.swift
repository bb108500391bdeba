import CHerzQUIC
import HerzCore
import Logging
import NIOCore

/// One QUIC connection of a server: the ngtcp2 connection, its GnuTLS session, its HTTP/3 layer,
/// its timer and the connection IDs it answers to.
///
/// Owned by one ``QUICEndpoint`` and only touched on that endpoint's event loop. Every ngtcp2
/// return code is checked: a fatal one closes the connection with the matching error (transport
/// error, TLS alert, or the HTTP/3 application error nghttp3 infers), never the process.
final class QUICServerConnection {
    enum State { case handshaking, established, closing, draining, closed }

    unowned let endpoint: QUICEndpoint
    let parameters: QUICConnectionParameters
    private(set) var conn: OpaquePointer!
    private var tlsSession: gnutls_session_t?
    private let connRef: UnsafeMutablePointer<ngtcp2_crypto_conn_ref>
    var http: HTTP3Connection?
    private(set) var state = State.handshaking
    /// IDs routed to this connection in the endpoint's table (Herz's own plus the client's original
    /// destination ID, which retransmitted Initials still carry).
    var routedIDs: Set<QUICConnectionID> = []
    /// The certificate this connection's TLS session uses, kept alive for as long as the session
    /// (GnuTLS does not reference-count credentials) even if the listener's is replaced.
    private var credentials: QUICTLSCredentials!
    /// This connection's qlog trace (`quic.qlog_dir`), if it has one.
    private var qlog: QUICQlogFile?
    private(set) var peer: SocketAddress
    let local: SocketAddress
    /// Why the connection is being closed (sent in CONNECTION_CLOSE).
    var closeError = ngtcp2_connection_close_error()
    private var closePacket: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var timerDeadline: UInt64 = .max
    private var writeScheduled = false
    /// Depth of calls into ngtcp2 that may run callbacks: writes requested meanwhile wait for it.
    private var inLibrary = 0

    /// Creates the connection for an accepted Initial (`header` from `ngtcp2_accept`). `originalID`:
    /// the client's first destination ID when a Retry came before (from the verified token).
    init(endpoint: QUICEndpoint, header: ngtcp2_pkt_hd, originalID: ngtcp2_cid?, tokenValidated: Bool,
         local: SocketAddress, peer: SocketAddress) throws {
        self.endpoint = endpoint
        self.parameters = endpoint.parameters
        self.local = local
        self.peer = peer
        connRef = .allocate(capacity: 1)
        connRef.initialize(to: ngtcp2_crypto_conn_ref(get_conn: { ref in
            Unmanaged<QUICServerConnection>.fromOpaque(ref!.pointee.user_data).takeUnretainedValue().conn
        }, user_data: nil))
        connRef.pointee.user_data = Unmanaged.passUnretained(self).toOpaque()

        let scid = endpoint.makeConnectionID()
        var settings = ngtcp2_settings()
        herz_ngtcp2_settings_default(&settings)
        settings.initial_ts = QUICClock.now()
        settings.max_window = UInt64(parameters.connectionWindowBytes * 2)
        settings.max_stream_window = UInt64(parameters.quic.streamWindowBytes * 2)
        settings.handshake_timeout = 10 * 1_000_000_000
        var header = header
        var params = ngtcp2_transport_params()
        herz_ngtcp2_transport_params_default(&params)
        params.initial_max_stream_data_bidi_remote = UInt64(parameters.quic.streamWindowBytes)
        params.initial_max_stream_data_uni = UInt64(parameters.quic.streamWindowBytes)
        params.initial_max_data = UInt64(parameters.connectionWindowBytes)
        params.initial_max_streams_bidi = UInt64(parameters.maxConcurrentStreams)
        // HTTP/3 needs 3 (control, QPACK encoder and decoder); the rest leaves room for greased or
        // unknown stream types, which nghttp3 reads and discards (RFC 9114 §6.2.3).
        params.initial_max_streams_uni = 8
        params.max_idle_timeout = UInt64(parameters.idleTimeout.nanoseconds)
        params.active_connection_id_limit = 4
        params.stateless_reset_token_present = 1
        if let originalID {
            params.original_dcid = originalID
            params.retry_scid = header.dcid
            params.retry_scid_present = 1
        } else {
            params.original_dcid = header.dcid
        }
        var ngScid = scid.ngtcp2
        try endpoint.writeStatelessResetToken(into: &params.stateless_reset_token, for: ngScid)
        if tokenValidated { settings.token = header.token }
        qlog = parameters.qlog?.open(originalID: QUICConnectionID(ngtcp2: originalID ?? header.dcid))
        if qlog != nil {
            settings.qlog.odcid = originalID ?? header.dcid
            settings.qlog.write = { userData, flags, data, length in
                guard let data else { return }
                QUICServerConnection.from(userData).qlog?.write(data, count: length, final: flags & NGTCP2_QLOG_WRITE_FLAG_FIN != 0)
            }
        }

        var created: OpaquePointer?
        var callbacks = QUICServerConnection.callbacks
        let rv = QUICPath.with(local: local, remote: peer) { path in
            herz_ngtcp2_conn_server_new(&created, &header.scid, &ngScid, path, header.version, &callbacks, &settings, &params,
                                        Unmanaged.passUnretained(self).toOpaque())
        }
        guard rv == 0, let created else {
            connRef.deallocate()
            throw QUICError.ngtcp2(function: "ngtcp2_conn_server_new", code: rv)
        }
        conn = created
        var session: gnutls_session_t?
        credentials = parameters.credentials.credentials
        let tlsRV = herz_quic_tls_session_new(&session, credentials.credentials, parameters.resumption.state, connRef)
        guard tlsRV == 0, let session else {
            ngtcp2_conn_del(created)
            connRef.deallocate()
            throw QUICError.tls(function: "herz_quic_tls_session_new", message: QUICError.gnutlsMessage(tlsRV))
        }
        tlsSession = session
        ngtcp2_conn_set_tls_native_handle(created, UnsafeMutableRawPointer(session))
        routedIDs = [scid, QUICConnectionID(ngtcp2: header.dcid)]
    }

    deinit {
        timer?.cancel()
        http?.free()
        if let conn { ngtcp2_conn_del(conn) }
        if let tlsSession { gnutls_deinit(tlsSession) }
        connRef.deallocate()
    }

    var isOpen: Bool { state == .handshaking || state == .established }
    /// Stream data read now came in 0-RTT packets: the handshake has not completed yet.
    var inEarlyData: Bool { state == .handshaking }

    // MARK: receiving

    /// One datagram for this connection.
    func receive(_ datagram: ByteBuffer, from remote: SocketAddress, ecn: UInt32) {
        switch state {
        case .closing:
            // Answer (bounded by the peer's packets) with the same CONNECTION_CLOSE.
            if let closePacket { endpoint.send(closePacket, to: peer) }
            return
        case .draining, .closed:
            return
        case .handshaking, .established:
            break
        }
        var info = ngtcp2_pkt_info()
        info.ecn = ecn
        inLibrary += 1
        let rv = datagram.withUnsafeReadableBytes { bytes in
            QUICPath.with(local: local, remote: remote) { path in
                herz_ngtcp2_conn_read_pkt(conn, path, &info, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                                          QUICClock.now())
            }
        }
        inLibrary -= 1
        if rv != 0 {
            readFailed(rv)
            return
        }
        if remote != peer, let current = QUICPath.socketAddress(ngtcp2_conn_get_path(conn).pointee.remote.addr,
                                                                Int(ngtcp2_conn_get_path(conn).pointee.remote.addrlen)) {
            peer = current  // migration or NAT rebinding that ngtcp2 accepted (after path validation)
        }
        writePackets()
    }

    private func readFailed(_ rv: Int32) {
        switch rv {
        case NGTCP2_ERR_DRAINING:
            // The peer closed: stay silent for 3 PTO, then forget (RFC 9000 §10.2.2).
            enterClosedPeriod(.draining)
        case NGTCP2_ERR_DROP_CONN, NGTCP2_ERR_RETRY:
            // ngtcp2 asks to drop the connection without a word (e.g. an unrecoverable Initial).
            terminate()
        case NGTCP2_ERR_CRYPTO:
            if closeError.error_code == 0 {
                ngtcp2_connection_close_error_set_transport_error_tls_alert(&closeError, ngtcp2_conn_get_tls_alert(conn), nil, 0)
            }
            close()
        default:
            if closeError.error_code == 0 {
                ngtcp2_connection_close_error_set_transport_error_liberr(&closeError, rv, nil, 0)
            }
            close()
        }
    }

    // MARK: callbacks from ngtcp2 (called inside read/write/expiry)

    func handshakeCompleted() -> Int32 {
        state = .established
        endpoint.handshakeFinished(self, ok: true)
        if let tlsSession, herz_quic_tls_early_data_accepted(tlsSession) != 0 {
            endpoint.observer?.quicEvent(.earlyData(.accepted), listener: parameters.listenerName)
        }
        if let token = endpoint.makeAddressToken(for: peer),
           ngtcp2_conn_submit_new_token(conn, token, token.count) == 0 {
            endpoint.observer?.quicEvent(.addressTokenIssued, listener: parameters.listenerName)
        }
        return 0
    }

    func applicationKeysInstalled() -> Int32 {
        guard http == nil else { return 0 }
        do {
            http = try HTTP3Connection(connection: self)
            return 0
        } catch {
            endpoint.logger.debug("HTTP/3 set-up failed", metadata: ["error": "\(error)"])
            return NGTCP2_ERR_CALLBACK_FAILURE
        }
    }

    func issueConnectionID(_ cid: UnsafeMutablePointer<ngtcp2_cid>, token: UnsafeMutablePointer<UInt8>, length: Int) -> Int32 {
        let id = endpoint.makeConnectionID()
        cid.pointee = id.ngtcp2
        do {
            try endpoint.writeStatelessResetToken(into: token, for: cid.pointee)
        } catch {
            return NGTCP2_ERR_CALLBACK_FAILURE
        }
        endpoint.route(id, to: self)
        return 0
    }

    func retireConnectionID(_ cid: ngtcp2_cid) -> Int32 {
        endpoint.unroute(QUICConnectionID(ngtcp2: cid), from: self)
        return 0
    }

    /// An HTTP/3 error that nghttp3 reported as fatal for the whole connection.
    func failApplication(_ nghttp3Error: Int32) -> Int32 {
        ngtcp2_connection_close_error_set_application_error(&closeError, nghttp3_err_infer_quic_app_error_code(nghttp3Error), nil, 0)
        return NGTCP2_ERR_CALLBACK_FAILURE
    }

    // MARK: writing

    /// Asks for a write pass on the next loop turn (coalesced): used by the HTTP/3 streams when the
    /// proxy queued response data or released flow-control credit outside a read.
    func scheduleWrite() {
        guard !writeScheduled, isOpen else { return }
        writeScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: endpoint.eventLoop)
        endpoint.eventLoop.execute {
            let connection = loopBound.value
            connection.writeScheduled = false
            connection.writePackets()
        }
    }

    /// Writes every packet ngtcp2 has ready (stream data from nghttp3, ACKs, handshake, control
    /// frames) up to the congestion controller's send quantum, then re-arms the timer; ngtcp2's
    /// expiry includes the pacing time of the next packet.
    func writePackets() {
        guard isOpen, inLibrary == 0 else { return }
        inLibrary += 1
        defer { inLibrary -= 1; endpoint.flushIfNeeded() }
        let result = QUICPacketWriter.writeAll(connection: self)
        switch result {
        case .ok:
            rearmTimer()
        case .transportFailure(let rv):
            if closeError.error_code == 0 { ngtcp2_connection_close_error_set_transport_error_liberr(&closeError, rv, nil, 0) }
            inLibrary -= 1; close(); inLibrary += 1
        case .applicationFailure(let rv):
            ngtcp2_connection_close_error_set_application_error(&closeError, nghttp3_err_infer_quic_app_error_code(rv), nil, 0)
            inLibrary -= 1; close(); inLibrary += 1
        }
    }

    func sendPacket(_ packet: ByteBuffer, path: ngtcp2_path, ecn: UInt32) {
        guard let address = QUICPath.remoteAddress(of: path, cached: peer) else { return }
        endpoint.send(packet, to: address)
    }

    // MARK: timer

    private func rearmTimer() {
        let expiry = ngtcp2_conn_get_expiry(conn)
        guard expiry != timerDeadline || timer == nil else { return }
        timer?.cancel()
        timerDeadline = expiry
        guard expiry != .max else { timer = nil; return }
        let loopBound = NIOLoopBound(self, eventLoop: endpoint.eventLoop)
        timer = endpoint.eventLoop.scheduleTask(deadline: QUICClock.deadline(expiry)) { loopBound.value.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = .max
        guard isOpen else { return }
        inLibrary += 1
        let rv = ngtcp2_conn_handle_expiry(conn, QUICClock.now())
        inLibrary -= 1
        if rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT {
            // Idle timeout: the peer already considers the connection gone; close silently (RFC 9000 §10.1).
            endpoint.idleTimedOut(self)
            terminate()
            return
        }
        if rv != 0 {
            ngtcp2_connection_close_error_set_transport_error_liberr(&closeError, rv, nil, 0)
            close()
            return
        }
        writePackets()
    }

    // MARK: closing

    /// Closes on the next loop turn (from inside library callbacks, where writing is not allowed).
    func scheduleClose() {
        let loopBound = NIOLoopBound(self, eventLoop: endpoint.eventLoop)
        endpoint.eventLoop.execute { loopBound.value.close() }
    }

    /// Closes with `closeError` (NO_ERROR unless set): one CONNECTION_CLOSE, then the closing
    /// period (3 PTO) during which further packets are answered with the same frame.
    func close() {
        guard isOpen else { return }
        var path = ngtcp2_path_storage()
        ngtcp2_path_storage_zero(&path)
        var info = ngtcp2_pkt_info()
        var buffer = endpoint.allocator.buffer(capacity: 1452)
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1452) { bytes in
            let n = herz_ngtcp2_conn_write_connection_close(conn, &path.path, &info, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                                            bytes.count, &closeError, QUICClock.now())
            return n > 0 ? Int(n) : 0
        }
        if written > 0 {
            closePacket = buffer
            endpoint.send(buffer, to: peer)
            endpoint.flushIfNeeded()
        }
        enterClosedPeriod(.closing)
    }

    private func enterClosedPeriod(_ next: State) {
        guard isOpen else { return }
        reportRTT()
        if state == .handshaking { endpoint.handshakeFinished(self, ok: false) }
        state = next
        http?.connectionClosed()
        timer?.cancel()
        let period = TimeAmount.nanoseconds(Int64(min(ngtcp2_conn_get_pto(conn) * 3, 60_000_000_000)))
        let loopBound = NIOLoopBound(self, eventLoop: endpoint.eventLoop)
        timer = endpoint.eventLoop.scheduleTask(in: period) { loopBound.value.terminate() }
    }

    /// Forgets the connection: streams are aborted, IDs unrouted, memory freed once unreferenced.
    func terminate() {
        guard state != .closed else { return }
        if isOpen { reportRTT() }
        if state == .handshaking { endpoint.handshakeFinished(self, ok: false) }
        state = .closed
        timer?.cancel()
        timer = nil
        http?.connectionClosed()
        endpoint.remove(self)
    }

    /// Reports the smoothed RTT of an established connection as it stops being open (once: both
    /// callers only report while ``isOpen``, and leave it).
    private func reportRTT() {
        guard state == .established else { return }
        var smoothed: UInt64 = 0, latest: UInt64 = 0, inFlight: UInt64 = 0
        herz_ngtcp2_conn_get_rtt(conn, &smoothed, &latest, &inFlight)
        endpoint.observer?.quicEvent(.connectionRTT(smoothedNanos: smoothed), listener: parameters.listenerName)
    }

    /// Graceful shutdown (drain, reload): HTTP/3 GOAWAY, then close once no request is left.
    func shutDownGracefully() {
        guard isOpen else { return }
        guard let http, state == .established else { close(); return }
        http.sendGoaway()
        scheduleWrite()
    }
}
