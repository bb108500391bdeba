/// The header that starts every sealed message (docs/aes-gcm-format.md, "Header"):
///
///     "HZG" | version (1) | key id length (1) | key id | chunk size (u32 BE) | salt (32)
///
/// Guarantees: `encoded()` and `parse` are inverses; `parse` accepts only version 1 headers with a
/// valid key id and a chunk size in `1...SealedFormat.maxChunkSize`, and never reads past what it
/// was given. Every byte of the header is authenticated as part of every chunk's AAD.
public struct MessageHeader: Equatable, Sendable {
    public var keyID: KeyID
    /// Plaintext bytes of every chunk but the final one (which holds fewer).
    public var chunkSize: Int
    /// Per-message randomness: with the key it determines the message's AES key and nonce prefix.
    public var salt: [UInt8]

    public init(keyID: KeyID, chunkSize: Int, salt: [UInt8]) {
        precondition(salt.count == SealedFormat.saltBytes && (1...SealedFormat.maxChunkSize).contains(chunkSize))
        self.keyID = keyID
        self.chunkSize = chunkSize
        self.salt = salt
    }

    /// Header bytes for a key id of `keyIDBytes` bytes.
    public static func encodedSize(keyIDBytes: Int) -> Int {
        SealedFormat.magic.count + 2 + keyIDBytes + 4 + SealedFormat.saltBytes
    }

    public func encoded() -> [UInt8] {
        let id = Array(keyID.value.utf8)
        var out = SealedFormat.magic + [SealedFormat.version, UInt8(id.count)] + id
        out.reserveCapacity(Self.encodedSize(keyIDBytes: id.count))
        withUnsafeBytes(of: UInt32(chunkSize).bigEndian) { out.append(contentsOf: $0) }
        out += salt
        return out
    }

    /// Parses a header at the start of `bytes`: the header and its length, nil when `bytes` ends
    /// before the header does; throws when what is there cannot start a version 1 message.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> (header: MessageHeader, length: Int)? {
        let start = bytes.startIndex
        let fixed = SealedFormat.magic.count
        for (offset, byte) in SealedFormat.magic.enumerated() where offset < bytes.count {
            guard bytes[start + offset] == byte else { throw SealedMessageError.notSealed }
        }
        guard bytes.count > fixed else { return nil }
        guard bytes[start + fixed] == SealedFormat.version else { throw SealedMessageError.unsupportedVersion(bytes[start + fixed]) }
        guard bytes.count > fixed + 1 else { return nil }
        let idLength = Int(bytes[start + fixed + 1])
        guard (1...KeyID.maxBytes).contains(idLength) else { throw SealedMessageError.malformedKeyID }
        let length = encodedSize(keyIDBytes: idLength)
        guard bytes.count >= length else { return nil }
        let idStart = start + fixed + 2
        let id = bytes[idStart..<idStart + idLength]
        guard KeyID.isValid(id) else { throw SealedMessageError.malformedKeyID }
        let sizeStart = idStart + idLength
        let chunkSize = bytes[sizeStart..<sizeStart + 4].reduce(0) { $0 << 8 | Int($1) }
        guard (1...SealedFormat.maxChunkSize).contains(chunkSize) else { throw SealedMessageError.chunkSizeOutOfRange(chunkSize) }
        let salt = Array(bytes[(sizeStart + 4)..<(start + length)])
        return (MessageHeader(keyID: KeyID(validBytes: id), chunkSize: chunkSize, salt: salt), length)
    }
}
