import CHerzCapnp

/// One message open in this thread's C decoder (`herz_dec_*`), reading the caller's bytes in place.
/// Only `WireCodec` creates one, for the duration of one decode call.
struct WireDecoder {
    let raw: OpaquePointer

    /// Opens `bytes` (exactly one stream-framed message, any alignment) and reads it with `read`.
    static func decode<T>(_ bytes: UnsafeRawBufferPointer, _ read: (WireDecoder) throws -> T) throws -> T {
        guard let length = try WireCodec.framedLength(bytes, limit: bytes.count) else {
            throw WireError.malformed("truncated: \(bytes.count) bytes do not hold a segment table")
        }
        guard length == bytes.count else {
            throw WireError.malformed("\(bytes.count - length) bytes after the \(length)-byte frame")
        }
        if let base = bytes.baseAddress, Int(bitPattern: base) % 8 == 0 {
            return try Self.open(bytes, read)
        }
        return try withUnsafeTemporaryAllocation(byteCount: bytes.count, alignment: 8) { scratch in
            scratch.copyMemory(from: bytes)
            return try Self.open(UnsafeRawBufferPointer(scratch), read)
        }
    }

    private static func open<T>(_ words: UnsafeRawBufferPointer, _ read: (WireDecoder) throws -> T) throws -> T {
        var error = herz_error()
        guard let raw = herz_dec_open(words.baseAddress, words.count, &error) else {
            throw WireError.malformed(error.text)
        }
        return try read(WireDecoder(raw: raw))
    }

    /// Runs one shim call, turning its failure into `WireError.malformed`.
    func run(_ call: (UnsafeMutablePointer<herz_error>) -> Int32) throws {
        var error = herz_error()
        guard Int(call(&error)) == HERZ_OK else { throw WireError.malformed(error.text) }
    }

    /// The `count` elements of a List(Header) the root read located.
    func headers(_ list: herz_list_id, count: UInt32) throws -> [WireHeader] {
        var headers: [WireHeader] = []
        headers.reserveCapacity(Int(count))
        for index in 0..<count {
            var name = herz_bytes()
            var value = herz_bytes()
            try self.run { herz_dec_list_header(self.raw, list, index, &name, &value, $0) }
            headers.append(WireHeader(name.string, value.string))
        }
        return headers
    }

    /// The `count` elements of a List(Data) or List(Text) the root read located, as Strings.
    func strings(_ list: herz_list_id, count: UInt32) throws -> [String] {
        var strings: [String] = []
        strings.reserveCapacity(Int(count))
        for index in 0..<count {
            var bytes = herz_bytes()
            try self.run { herz_dec_list_blob(self.raw, list, index, &bytes, $0) }
            strings.append(bytes.string)
        }
        return strings
    }
}

/// The Swift enum case for a raw wire enum value; `WireError.invalidValue` for values this build
/// does not know (a newer peer).
func wireEnum<E: RawRepresentable>(_ raw: UInt16, _ type: E.Type = E.self) throws -> E where E.RawValue == UInt16 {
    guard let value = E(rawValue: raw) else { throw WireError.invalidValue("unknown \(E.self) value \(raw)") }
    return value
}

/// The error for a union discriminant this build does not know (a newer peer).
func unknownVariant(_ union: String, _ which: UInt16) -> WireError {
    .invalidValue("unknown \(union) variant \(which)")
}
