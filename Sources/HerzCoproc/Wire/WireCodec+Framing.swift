extension WireCodec {
    /// Most segments a frame may have: Herz's frames are small (one or two segments); Cap'n Proto's
    /// own readers refuse far fewer than 2^32, and a cap keeps the table scan trivially bounded.
    public static let maxSegments = 64

    /// Total length of the stream-framed message at the start of `bytes` according to its segment
    /// table, nil if `bytes` is too short to tell; throws `.malformed` for absurd tables (segment
    /// count > 64, total > limit). Reads only the table (any alignment), never the segments, so a
    /// non-nil result says nothing about whether the message decodes.
    public static func framedLength(_ bytes: UnsafeRawBufferPointer, limit: Int) throws -> Int? {
        guard bytes.count >= 4 else { return nil }
        let segmentCount = Int(littleEndianUInt32(bytes, at: 0)) + 1
        guard segmentCount <= maxSegments else {
            throw WireError.malformed("segment table claims \(segmentCount) segments (at most \(maxSegments))")
        }
        let tableBytes = (segmentCount / 2 + 1) * 8
        guard tableBytes <= limit else { throw WireError.malformed("segment table alone exceeds the \(limit)-byte limit") }
        guard bytes.count >= tableBytes else { return nil }
        var total = tableBytes
        for segment in 0..<segmentCount {
            total += Int(littleEndianUInt32(bytes, at: 4 + 4 * segment)) * 8
        }
        guard total <= limit else {
            throw WireError.malformed("segment table claims \(total) bytes, more than the \(limit)-byte limit")
        }
        return total
    }

    private static func littleEndianUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
