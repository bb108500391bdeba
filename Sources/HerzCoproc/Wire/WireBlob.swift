import CHerzCapnp
import NIOCore

/// A value whose bytes travel as one Cap'n Proto `Data` or `Text` field: lent to the C shim as a
/// `herz_bytes` for the duration of `body`, without copying (a non-native String is made
/// contiguous first).
protocol WireBlob {
    func withWireBytes<R>(_ body: (herz_bytes) throws -> R) rethrows -> R
}

extension String: WireBlob {
    func withWireBytes<R>(_ body: (herz_bytes) throws -> R) rethrows -> R {
        if let result = try self.utf8.withContiguousStorageIfAvailable({ try body(herz_bytes($0)) }) {
            return result
        }
        var contiguous = self
        return try contiguous.withUTF8 { try body(herz_bytes($0)) }
    }
}

extension ByteBuffer: WireBlob {
    func withWireBytes<R>(_ body: (herz_bytes) throws -> R) rethrows -> R {
        try self.withUnsafeReadableBytes { try body(herz_bytes($0.bindMemory(to: UInt8.self))) }
    }
}

/// Lends the bytes of three blobs at once (pass "" for unused ones).
func withWireBytes<A: WireBlob, B: WireBlob, C: WireBlob, R>(
    _ a: A, _ b: B, _ c: C, _ body: (herz_bytes, herz_bytes, herz_bytes) throws -> R
) rethrows -> R {
    try a.withWireBytes { a in try b.withWireBytes { b in try c.withWireBytes { c in try body(a, b, c) } } }
}

extension herz_bytes {
    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        self.init(ptr: buffer.baseAddress, len: buffer.count)
    }

    /// The bytes as a String; invalid UTF-8 is repaired with U+FFFD.
    var string: String {
        String(decoding: UnsafeRawBufferPointer(start: self.ptr, count: self.len), as: UTF8.self)
    }

    /// A copy of the bytes in a new ByteBuffer (no allocation when empty).
    var byteBuffer: ByteBuffer {
        self.len == 0 ? ByteBuffer() : ByteBuffer(bytes: UnsafeRawBufferPointer(start: self.ptr, count: self.len))
    }
}

extension herz_error {
    /// The shim's NUL-terminated reason.
    var text: String {
        withUnsafeBytes(of: self.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
