import CHerzQUIC

/// ngtcp2's callbacks for a server connection. The cryptographic ones are ngtcp2's GnuTLS helper;
/// the others find the ``QUICServerConnection`` through `user_data` and forward to it (and through
/// it to nghttp3). A callback never throws or traps: failures return NGTCP2_ERR_CALLBACK_FAILURE,
/// which makes ngtcp2 close the connection.
extension QUICServerConnection {
    static func from(_ userData: UnsafeMutableRawPointer?) -> QUICServerConnection {
        Unmanaged<QUICServerConnection>.fromOpaque(userData!).takeUnretainedValue()
    }

    static let callbacks: ngtcp2_callbacks = {
        var callbacks = ngtcp2_callbacks()
        callbacks.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb
        callbacks.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb
        callbacks.encrypt = ngtcp2_crypto_encrypt_cb
        callbacks.decrypt = ngtcp2_crypto_decrypt_cb
        callbacks.hp_mask = ngtcp2_crypto_hp_mask_cb
        callbacks.update_key = ngtcp2_crypto_update_key_cb
        callbacks.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb
        callbacks.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb
        callbacks.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb
        callbacks.version_negotiation = ngtcp2_crypto_version_negotiation_cb
        callbacks.rand = { destination, length, _ in
            QUICRandom.fill(UnsafeMutableRawBufferPointer(start: destination, count: length))
        }
        callbacks.handshake_completed = { _, userData in from(userData).handshakeCompleted() }
        callbacks.recv_tx_key = { _, level, userData in
            level == NGTCP2_CRYPTO_LEVEL_APPLICATION ? from(userData).applicationKeysInstalled() : 0
        }
        callbacks.get_new_connection_id = { _, cid, token, length, userData in
            from(userData).issueConnectionID(cid!, token: token!, length: length)
        }
        callbacks.remove_connection_id = { _, cid, userData in from(userData).retireConnectionID(cid!.pointee) }
        callbacks.recv_stream_data = { _, flags, streamID, _, data, length, userData, _ in
            let connection = from(userData)
            guard let http = connection.http else { return 0 }
            return http.receiveStreamData(streamID, data: data, length: length, fin: flags & UInt32(NGTCP2_STREAM_DATA_FLAG_FIN) != 0)
        }
        callbacks.acked_stream_data_offset = { _, streamID, _, length, userData, _ in
            from(userData).http?.acknowledged(streamID, length: length) ?? 0
        }
        callbacks.stream_close = { conn, flags, streamID, code, userData, _ in
            let hasCode = flags & UInt32(NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET) != 0
            let connection = from(userData)
            // ngtcp2 0.12 keeps no connection-wide loss count; per stream it does, until this returns.
            let lost = ngtcp2_conn_get_stream_loss_count(conn, streamID)
            if lost > 0 { connection.endpoint.observer?.quicEvent(.streamPacketsLost(lost), listener: connection.parameters.listenerName) }
            return connection.http?.quicStreamClosed(streamID, code: hasCode ? code : UInt64(NGHTTP3_H3_NO_ERROR)) ?? 0
        }
        callbacks.stream_reset = { _, streamID, _, _, userData, _ in
            from(userData).http?.peerStoppedSending(streamID) ?? 0
        }
        callbacks.stream_stop_sending = { _, streamID, _, userData, _ in
            from(userData).http?.peerStoppedSending(streamID) ?? 0
        }
        callbacks.extend_max_remote_streams_bidi = { _, maxStreams, userData in
            if let http = from(userData).http?.conn { nghttp3_conn_set_max_client_streams_bidi(http, maxStreams) }
            return 0
        }
        callbacks.extend_max_stream_data = { _, streamID, _, userData, _ in
            from(userData).http?.unblock(streamID) ?? 0
        }
        return callbacks
    }()
}
