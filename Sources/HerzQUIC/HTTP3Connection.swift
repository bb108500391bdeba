import CHerzQUIC
import NIOCore

/// The HTTP/3 layer of one QUIC connection: the nghttp3 connection (framing, QPACK, control and
/// QPACK streams, GOAWAY) and its request streams.
///
/// Owned by its ``QUICServerConnection`` (same event loop). Request stream bytes arrive from
/// ngtcp2 through ``receiveStreamData(_:data:length:fin:)``; nghttp3's stream-level errors reset
/// the stream (H3_MESSAGE_ERROR …) through the stop_sending/reset_stream callbacks, connection-level
/// ones close the QUIC connection with the H3 code nghttp3 infers.
final class HTTP3Connection {
    unowned let quic: QUICServerConnection
    private(set) var conn: OpaquePointer!
    var streams: [Int64: HTTP3ServerStream] = [:]
    private(set) var goawaySent = false

    init(connection: QUICServerConnection) throws {
        quic = connection
        let quicConn = connection.conn!
        guard ngtcp2_conn_get_max_local_streams_uni(quicConn) >= 3 else {
            throw QUICError.nghttp3(function: "peer allows fewer than 3 unidirectional streams", code: NGHTTP3_ERR_H3_STREAM_CREATION_ERROR)
        }
        var settings = nghttp3_settings()
        herz_nghttp3_settings_default(&settings)
        settings.max_field_section_size = UInt64(connection.parameters.maxHeaderBytes)
        settings.qpack_max_dtable_capacity = 4096
        settings.qpack_blocked_streams = 100
        var callbacks = HTTP3Connection.callbacks
        var created: OpaquePointer?
        let rv = herz_nghttp3_conn_server_new(&created, &callbacks, &settings, Unmanaged.passUnretained(self).toOpaque())
        guard rv == 0, let created else { throw QUICError.nghttp3(function: "nghttp3_conn_server_new", code: rv) }
        conn = created
        nghttp3_conn_set_max_client_streams_bidi(created, ngtcp2_conn_get_local_transport_params(quicConn).pointee.initial_max_streams_bidi)
        var ids: [Int64] = [-1, -1, -1]  // control, QPACK encoder, QPACK decoder
        for index in ids.indices {
            let rv = ngtcp2_conn_open_uni_stream(quicConn, &ids[index], nil)
            if rv != 0 { nghttp3_conn_del(created); conn = nil; throw QUICError.ngtcp2(function: "ngtcp2_conn_open_uni_stream", code: rv) }
        }
        var bind = nghttp3_conn_bind_control_stream(created, ids[0])
        if bind == 0 { bind = nghttp3_conn_bind_qpack_streams(created, ids[1], ids[2]) }
        if bind != 0 { nghttp3_conn_del(created); conn = nil; throw QUICError.nghttp3(function: "bind streams", code: bind) }
    }

    /// Frees nghttp3's state (from the owning connection's deinit).
    func free() {
        if let conn { nghttp3_conn_del(conn) }
        conn = nil
    }

    // MARK: from ngtcp2 callbacks

    func receiveStreamData(_ streamID: Int64, data: UnsafePointer<UInt8>?, length: Int, fin: Bool) -> Int32 {
        let consumed = nghttp3_conn_read_stream(conn, streamID, data, length, fin ? 1 : 0)
        if consumed < 0 { return quic.failApplication(Int32(consumed)) }
        // Framing, QPACK and control bytes are consumed at once; DATA payload is credited by
        // the stream when the proxy has taken it (HTTP3ServerStream.credit).
        extendCredit(streamID, consumed)
        return 0
    }

    func extendCredit(_ streamID: Int64, _ bytes: Int) {
        guard bytes > 0 else { return }
        ngtcp2_conn_extend_max_stream_offset(quic.conn, streamID, UInt64(bytes))
        ngtcp2_conn_extend_max_offset(quic.conn, UInt64(bytes))
    }

    func acknowledged(_ streamID: Int64, length: UInt64) -> Int32 {
        let rv = nghttp3_conn_add_ack_offset(conn, streamID, length)
        return rv == 0 ? 0 : quic.failApplication(rv)
    }

    func quicStreamClosed(_ streamID: Int64, code: UInt64) -> Int32 {
        let rv = nghttp3_conn_close_stream(conn, streamID, code)
        switch rv {
        case 0:
            return 0
        case NGHTTP3_ERR_STREAM_NOT_FOUND:
            if ngtcp2_is_bidi_stream(streamID) != 0 { ngtcp2_conn_extend_max_streams_bidi(quic.conn, 1) }
            return 0
        default:
            return quic.failApplication(rv)
        }
    }

    /// RESET_STREAM or STOP_SENDING from the client: nghttp3 stops reading the stream; the proxy
    /// stream is aborted and both directions are shut (H3_REQUEST_CANCELLED).
    func peerStoppedSending(_ streamID: Int64) -> Int32 {
        let rv = nghttp3_conn_shutdown_stream_read(conn, streamID)
        if rv != 0 && nghttp3_err_is_fatal(rv) != 0 { return quic.failApplication(rv) }
        if let stream = streams[streamID] { stream.abort(code: UInt64(NGHTTP3_H3_REQUEST_CANCELLED)) }
        return 0
    }

    func unblock(_ streamID: Int64) -> Int32 {
        let rv = nghttp3_conn_unblock_stream(conn, streamID)
        return rv == 0 ? 0 : quic.failApplication(rv)
    }

    // MARK: lifecycle

    /// Sends GOAWAY: requests already received are served; newer ones are rejected with
    /// H3_REQUEST_REJECTED (safe for the client to retry elsewhere). The connection closes when
    /// the last stream is done.
    func sendGoaway() {
        guard !goawaySent, let conn else { return }
        goawaySent = true
        let rv = nghttp3_conn_shutdown(conn)
        if rv != 0 { _ = quic.failApplication(rv); quic.close(); return }
        closeIfDrained()
    }

    func closeIfDrained() {
        guard goawaySent, streams.isEmpty, quic.isOpen else { return }
        ngtcp2_connection_close_error_set_application_error(&quic.closeError, UInt64(NGHTTP3_H3_NO_ERROR), nil, 0)
        quic.scheduleClose()
    }

    func streamClosed(_ stream: HTTP3ServerStream) {
        streams[stream.id] = nil
        closeIfDrained()
    }

    /// The QUIC connection is closing or gone: every stream still open is aborted.
    func connectionClosed() {
        let open = streams.values
        streams.removeAll()
        for stream in open { stream.connectionGone() }
    }
}
