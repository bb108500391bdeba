import CHerzCapnp

/// One message being built in this thread's C encoder (`herz_enc_*`). Only `WireCodec` creates
/// one, for the duration of one encode call.
struct WireEncoder {
    let raw: OpaquePointer

    /// Builds a message with `write` and copies it, stream-framed, into `buffer`.
    static func encode(into buffer: UnsafeMutableRawBufferPointer, _ write: (WireEncoder) throws -> Void) throws -> Int {
        let encoder = Self.begin()
        do {
            try write(encoder)
        } catch {
            var written = 0
            var ignored = herz_error()
            _ = herz_enc_finish(encoder.raw, nil, 0, &written, &ignored)  // ends the message
            throw error
        }
        return try encoder.finish(into: buffer)
    }

    /// Builds a message with `write` into a new array of exactly its framed size. Traps only when
    /// libcapnp refuses the message (a blob over 512 MiB), which no caller of the public API can
    /// reach with a frame the protocol allows.
    static func encodeToBytes(_ write: (WireEncoder) throws -> Void) -> [UInt8] {
        let encoder = Self.begin()
        do {
            try write(encoder)
            let size = herz_enc_size(encoder.raw)
            return try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                count = try encoder.finish(into: UnsafeMutableRawBufferPointer(buffer))
            }
        } catch {
            preconditionFailure("Cap'n Proto refused to encode a Herz message: \(error)")
        }
    }

    private static func begin() -> WireEncoder {
        guard let raw = herz_enc_begin() else { fatalError("out of memory for the Cap'n Proto encoder") }
        return WireEncoder(raw: raw)
    }

    private func finish(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var written = 0
        var error = herz_error()
        let result = herz_enc_finish(self.raw, buffer.baseAddress, buffer.count, &written, &error)
        if Int(result) == HERZ_ERR_TOO_SMALL { throw WireError.bufferTooSmall(needed: written) }
        try Self.check(result, error)
        return written
    }

    /// Runs one shim call, turning its failure into `WireError.invalidValue`.
    func run(_ call: (UnsafeMutablePointer<herz_error>) -> Int32) throws {
        var error = herz_error()
        let result = call(&error)
        try Self.check(result, error)
    }

    private static func check(_ result: Int32, _ error: herz_error) throws {
        guard Int(result) == HERZ_OK else { throw WireError.invalidValue("cannot encode: \(error.text)") }
    }

    /// Fills a List(Header) that the root call sized to `headers.count`.
    func write(_ headers: [WireHeader], to list: herz_list_id) throws {
        for (index, header) in headers.enumerated() {
            try withWireBytes(header.name, header.value, "") { name, value, _ in
                try self.run { herz_enc_list_header(self.raw, list, UInt32(index), name, value, $0) }
            }
        }
    }

    /// Fills a List(Data) or List(Text) that the root call sized to `items.count`.
    func write(_ items: [String], to list: herz_list_id) throws {
        for (index, item) in items.enumerated() {
            try item.withWireBytes { bytes in
                try self.run { herz_enc_list_blob(self.raw, list, UInt32(index), bytes, $0) }
            }
        }
    }
}

/// A list count as the shim takes it; Cap'n Proto lists hold at most 2^29 - 1 elements, so a larger
/// count is refused by libcapnp rather than truncated here.
func wireCount(_ count: Int) -> UInt32 {
    UInt32(clamping: count)
}
