import CHerzQUIC
import NIOCore

/// The write loop of one connection: interleaves nghttp3's stream data with ngtcp2's packet
/// building, as ngtcp2's example server does, and checks every return code.
///
/// One datagram per packet (no GSO yet); at most the congestion controller's send quantum per
/// pass — ngtcp2's expiry then wakes the connection for the next paced burst.
enum QUICPacketWriter {
    enum Result { case ok, transportFailure(Int32), applicationFailure(Int32) }

    static let maxVectors = 16

    static func writeAll(connection: QUICServerConnection) -> Result {
        let conn = connection.conn!
        let now = QUICClock.now()
        let maxPacketSize = ngtcp2_conn_get_max_tx_udp_payload_size(conn)
        let maxPackets = max(1, min(64, ngtcp2_conn_get_send_quantum(conn) / max(1, maxPacketSize)))
        var path = ngtcp2_path_storage()
        ngtcp2_path_storage_zero(&path)
        var info = ngtcp2_pkt_info()
        var vectors = [nghttp3_vec](repeating: nghttp3_vec(), count: maxVectors)
        var packets = 0
        defer { ngtcp2_conn_update_pkt_tx_time(conn, now) }

        while packets < maxPackets {
            var streamID: Int64 = -1
            var fin: Int32 = 0
            var vectorCount = 0
            if let http = connection.http?.conn, ngtcp2_conn_get_max_data_left(conn) > 0 {
                let n = nghttp3_conn_writev_stream(http, &streamID, &fin, &vectors, maxVectors)
                if n < 0 { return .applicationFailure(Int32(n)) }
                vectorCount = Int(n)
            }
            var flags = UInt32(NGTCP2_WRITE_STREAM_FLAG_MORE)
            if fin != 0 { flags |= UInt32(NGTCP2_WRITE_STREAM_FLAG_FIN) }
            var accepted: ngtcp2_ssize = -1
            // One scratch buffer per worker: after WRITE_MORE, ngtcp2 goes on filling the same
            // packet, so the destination must stay put until the packet is complete.
            let scratch = connection.endpoint.packetScratch
            let written = vectors.withUnsafeBufferPointer { vectorBuffer in
                vectorBuffer.withMemoryRebound(to: ngtcp2_vec.self) { ngVectors in
                    herz_ngtcp2_conn_writev_stream(conn, &path.path, &info, scratch.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                   min(maxPacketSize, scratch.count), &accepted, flags, streamID,
                                                   vectorCount > 0 ? ngVectors.baseAddress : nil, vectorCount, now)
                }
            }
            if written < 0 {
                switch Int32(written) {
                case NGTCP2_ERR_STREAM_DATA_BLOCKED:
                    // The stream's flow-control window is closed: nghttp3 waits for extend_max_stream_data.
                    if let http = connection.http?.conn { nghttp3_conn_block_stream(http, streamID) }
                    continue
                case NGTCP2_ERR_STREAM_SHUT_WR:
                    if let http = connection.http?.conn { nghttp3_conn_shutdown_stream_write(http, streamID) }
                    continue
                case NGTCP2_ERR_WRITE_MORE:
                    // The packet has room for more stream data: account for what went in, go on filling.
                    if let http = connection.http?.conn {
                        let rv = nghttp3_conn_add_write_offset(http, streamID, Int(accepted))
                        if rv != 0 { return .applicationFailure(rv) }
                    }
                    continue
                default:
                    return .transportFailure(Int32(written))
                }
            }
            if accepted >= 0, let http = connection.http?.conn {
                let rv = nghttp3_conn_add_write_offset(http, streamID, Int(accepted))
                if rv != 0 { return .applicationFailure(rv) }
            }
            if written == 0 { break }  // nothing more (or congestion-limited)
            var packet = connection.endpoint.allocator.buffer(capacity: Int(written))
            packet.writeBytes(UnsafeRawBufferPointer(rebasing: scratch[..<Int(written)]))
            connection.sendPacket(packet, path: path.path, ecn: info.ecn)
            packets += 1
        }
        return .ok
    }
}
