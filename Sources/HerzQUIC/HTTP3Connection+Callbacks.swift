import CHerzQUIC

/// nghttp3's callbacks: each finds the ``HTTP3Connection`` (and the request stream, when it
/// exists) through the user-data pointers and forwards. Failures return
/// NGHTTP3_ERR_CALLBACK_FAILURE, which nghttp3 turns into a connection error.
extension HTTP3Connection {
    static func from(_ userData: UnsafeMutableRawPointer?) -> HTTP3Connection {
        Unmanaged<HTTP3Connection>.fromOpaque(userData!).takeUnretainedValue()
    }

    static func stream(_ streamData: UnsafeMutableRawPointer?) -> HTTP3ServerStream? {
        streamData.map { Unmanaged<HTTP3ServerStream>.fromOpaque($0).takeUnretainedValue() }
    }

    static func string(_ buffer: OpaquePointer?) -> String {
        let vec = nghttp3_rcbuf_get_buf(buffer)
        return String(decoding: UnsafeBufferPointer(start: vec.base, count: vec.len), as: UTF8.self)
    }

    static let callbacks: nghttp3_callbacks = {
        var callbacks = nghttp3_callbacks()
        callbacks.acked_stream_data = { _, _, length, _, streamData in
            stream(streamData)?.acknowledged(Int(length))
            return 0
        }
        callbacks.stream_close = { _, streamID, _, userData, streamData in
            let http = from(userData)
            if ngtcp2_is_bidi_stream(streamID) != 0 { ngtcp2_conn_extend_max_streams_bidi(http.quic.conn, 1) }
            stream(streamData)?.closedByTransport()
            return 0
        }
        callbacks.recv_data = { _, _, data, length, _, streamData in
            stream(streamData)?.receiveData(data, length: length)
            return 0
        }
        callbacks.deferred_consume = { _, streamID, consumed, userData, _ in
            from(userData).extendCredit(streamID, consumed)
            return 0
        }
        callbacks.begin_headers = { _, streamID, userData, _ in
            from(userData).beginRequest(streamID)
        }
        callbacks.recv_header = { _, _, _, name, value, _, _, streamData in
            stream(streamData)?.receiveField(name: string(name), value: string(value))
            return 0
        }
        callbacks.end_headers = { _, _, fin, _, streamData in
            stream(streamData)?.headersComplete(fin: fin != 0)
            return 0
        }
        callbacks.begin_trailers = { _, _, _, streamData in
            stream(streamData)?.beginTrailers()
            return 0
        }
        callbacks.recv_trailer = { _, _, _, name, value, _, _, streamData in
            stream(streamData)?.receiveField(name: string(name), value: string(value))
            return 0
        }
        callbacks.end_trailers = { _, _, _, _, _ in 0 }
        callbacks.end_stream = { _, _, _, streamData in
            stream(streamData)?.requestEnded()
            return 0
        }
        callbacks.stop_sending = { _, streamID, code, userData, _ in
            let rv = ngtcp2_conn_shutdown_stream_read(from(userData).quic.conn, streamID, code)
            return rv == 0 || rv == NGTCP2_ERR_STREAM_NOT_FOUND ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE
        }
        callbacks.reset_stream = { _, streamID, code, userData, _ in
            let rv = ngtcp2_conn_shutdown_stream_write(from(userData).quic.conn, streamID, code)
            return rv == 0 || rv == NGTCP2_ERR_STREAM_NOT_FOUND ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE
        }
        return callbacks
    }()

    func beginRequest(_ streamID: Int64) -> Int32 {
        let stream = HTTP3ServerStream(id: streamID, http: self)
        streams[streamID] = stream
        quic.endpoint.observer?.quicEvent(.streamOpened, listener: quic.parameters.listenerName)
        let rv = nghttp3_conn_set_stream_user_data(conn, streamID, Unmanaged.passUnretained(stream).toOpaque())
        return rv == 0 ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE
    }
}
