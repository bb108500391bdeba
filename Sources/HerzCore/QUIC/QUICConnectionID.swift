/// A QUIC connection ID (RFC 9000 §5.1, at most 20 bytes) as a fixed-size value: hashing and
/// comparing it allocates nothing, so routing a datagram to its connection costs no allocation.
public struct QUICConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// Longest connection ID QUIC v1 allows.
    public static let maxLength = 20

    // 20 bytes packed big-endian into 8 + 8 + 4 bytes, plus the length (IDs of different lengths
    // with the same leading bytes stay distinct).
    private var high: UInt64 = 0
    private var middle: UInt64 = 0
    private var low: UInt32 = 0
    public private(set) var count: Int = 0

    /// `nil` when `bytes` is longer than ``maxLength``.
    public init?<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count <= Self.maxLength else { return nil }
        count = bytes.count
        for (index, byte) in bytes.enumerated() {
            let value = UInt64(byte)
            switch index {
            case 0..<8: high |= value << (8 * (7 - index))
            case 8..<16: middle |= value << (8 * (15 - index))
            default: low |= UInt32(byte) << (8 * (19 - index))
            }
        }
    }

    /// The ID's bytes, in order.
    public var bytes: [UInt8] {
        (0..<count).map { self[$0] }
    }

    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count, "connection ID index out of range")
        switch index {
        case 0..<8: return UInt8(truncatingIfNeeded: high >> (8 * (7 - index)))
        case 8..<16: return UInt8(truncatingIfNeeded: middle >> (8 * (15 - index)))
        default: return UInt8(truncatingIfNeeded: low >> (8 * (19 - index)))
        }
    }

    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
