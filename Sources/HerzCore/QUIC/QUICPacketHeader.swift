/// The version-independent part of a QUIC packet header (RFC 8999): enough to route a datagram
/// and to answer it statelessly, parsed without trusting any length the peer sent.
public enum QUICPacketHeader: Equatable, Sendable {
    /// Long header: version, both connection IDs, and the packet type bits (v1: 0 Initial,
    /// 1 0-RTT, 2 Handshake, 3 Retry).
    case long(version: UInt32, typeBits: UInt8, destination: QUICConnectionID, source: QUICConnectionID)
    /// Short header (1-RTT): only the destination ID, whose length the receiver chose.
    case short(destination: QUICConnectionID)

    public var destination: QUICConnectionID {
        switch self {
        case .long(_, _, let id, _), .short(let id): return id
        }
    }

    /// Parses the invariant header fields. `nil` when the bytes cannot be a QUIC packet: too
    /// short, a connection ID longer than the datagram or than 20 bytes (v1 limit, which Herz also
    /// applies to unknown versions' IDs it would echo). The fixed bit (0x40) is not checked: Herz
    /// advertises `grease_quic_bit` (ngtcp2's default), so peers may clear it in any packet after
    /// the handshake (RFC 9287); ngtcp2 itself checks it where it must.
    public static func parse<Bytes: RandomAccessCollection>(_ datagram: Bytes, shortHeaderIDLength: Int) -> QUICPacketHeader?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        guard let first = datagram.first else { return nil }
        let start = datagram.startIndex
        if first & 0x80 == 0 {
            // Short header: form bit 0 (RFC 9000 §17.3.1; the fixed bit may be greased, see above).
            guard datagram.count >= 1 + shortHeaderIDLength,
                  let id = QUICConnectionID(datagram[(start + 1)..<(start + 1 + shortHeaderIDLength)]) else { return nil }
            return .short(destination: id)
        }
        guard datagram.count >= 7 else { return nil }
        var version: UInt32 = 0
        for offset in 1...4 { version = version << 8 | UInt32(datagram[start + offset]) }
        var cursor = start + 5
        guard let destination = readID(datagram, &cursor), let source = readID(datagram, &cursor) else { return nil }
        return .long(version: version, typeBits: (first >> 4) & 0x03, destination: destination, source: source)
    }

    private static func readID<Bytes: RandomAccessCollection>(_ bytes: Bytes, _ cursor: inout Int) -> QUICConnectionID?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        guard cursor < bytes.endIndex else { return nil }
        let length = Int(bytes[cursor])
        cursor += 1
        guard length <= QUICConnectionID.maxLength, cursor + length <= bytes.endIndex else { return nil }
        defer { cursor += length }
        return QUICConnectionID(bytes[cursor..<(cursor + length)])
    }
}
