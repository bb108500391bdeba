/// The constants of the sealed-message format, version 1 (docs/aes-gcm-format.md): every number a
/// sealer and an opener must agree on, in one place.
public enum SealedFormat {
    /// "HZG": the first three bytes of every sealed message.
    public static let magic: [UInt8] = [0x48, 0x5A, 0x47]
    /// The format version this build writes and reads.
    public static let version: UInt8 = 1
    /// Random bytes per message from which its AES key and nonce prefix are derived.
    public static let saltBytes = 32
    /// The AES-GCM tag closing every chunk.
    public static let tagBytes = 16
    /// The derived per-message part of every chunk nonce; the other 4 bytes are the chunk's sequence number.
    public static let noncePrefixBytes = 8
    /// Plaintext bytes per chunk unless configured otherwise.
    public static let defaultChunkSize = 16 * 1024
    /// The largest chunk size a sealer writes and an opener accepts (bounds an opener's buffer).
    public static let maxChunkSize = 1 << 20
    /// Chunks per message: sequence numbers are 32-bit.
    public static let maxChunks: UInt64 = 1 << 32
    /// HKDF-SHA256 `info` for the per-message key and nonce prefix.
    static let kdfInfo: [UInt8] = Array("herz-aesgcm v1 message key".utf8)

    /// The sealed size of `plaintextBytes` bytes in one message: header, chunks, one tag per chunk.
    public static func sealedSize(plaintextBytes: Int, keyIDBytes: Int, chunkSize: Int = defaultChunkSize) -> Int {
        let chunks = plaintextBytes / chunkSize + 1  // the final chunk holds the remainder, maybe 0 bytes
        return MessageHeader.encodedSize(keyIDBytes: keyIDBytes) + plaintextBytes + chunks * tagBytes
    }
}
