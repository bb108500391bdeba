import Crypto
import Foundation

/// The AES-GCM key and nonces of one message (docs/aes-gcm-format.md, "Keys and nonces"):
///
///     key' || prefix = HKDF-SHA256(ikm: named key, salt: header salt, info: "herz-aesgcm v1 message key",
///                                  length: key length + 8)
///     nonce(i)       = prefix || u32be(i)
///     aad(i, final)  = header bytes || u32be(i) || u8(final) || context
///
/// Guarantees: every message gets its own AES key (a fresh 32-byte salt), and chunk `i` of a message
/// is sealed under nonce `i`, so no (key, nonce) pair is used twice unless two salts collide; a chunk
/// opens only at its own position, with its own final flag, in its own message, under its own context.
/// A value; owned by one sealer or opener.
struct MessageCipher {
    /// The message's own AES key and nonce prefix (internal: the nonce-uniqueness tests read them).
    let key: SymmetricKey
    let noncePrefix: [UInt8]
    private let headerBytes: [UInt8]
    private let context: [UInt8]

    init(key: NamedKey, header: MessageHeader, headerBytes: [UInt8], context: [UInt8]) {
        let keyBytes = key.key.bitCount / 8
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: key.key, salt: header.salt, info: SealedFormat.kdfInfo,
                                             outputByteCount: keyBytes + SealedFormat.noncePrefixBytes)
        let okm = derived.withUnsafeBytes { Array($0) }
        self.key = SymmetricKey(data: okm[..<keyBytes])
        self.noncePrefix = Array(okm[keyBytes...])
        self.headerBytes = headerBytes
        self.context = context
    }

    /// Appends the sealed chunk `sequence` (`ciphertext || tag`) to `out`.
    func seal(_ plaintext: some DataProtocol, sequence: UInt64, final: Bool, into out: inout [UInt8]) {
        do {
            try GCM.seal(plaintext, key: key, nonce: nonce(sequence), aad: aad(sequence, final: final), into: &out)
        } catch {
            // Only a malformed nonce or key could fail, and both are built here with valid sizes.
            preconditionFailure("AES-GCM seal failed: \(error)")
        }
    }

    /// The plaintext of sealed chunk `sequence`; throws ``SealedMessageError/authenticationFailed(sequence:)``.
    func open(_ sealed: ArraySlice<UInt8>, sequence: UInt64, final: Bool) throws -> Data {
        do {
            return try GCM.open(sealed, key: key, nonce: nonce(sequence), aad: aad(sequence, final: final))
        } catch {
            throw SealedMessageError.authenticationFailed(sequence: sequence)
        }
    }

    func nonce(_ sequence: UInt64) -> [UInt8] {
        noncePrefix + Self.bigEndian32(sequence)
    }

    private func aad(_ sequence: UInt64, final: Bool) -> [UInt8] {
        headerBytes + Self.bigEndian32(sequence) + [final ? 1 : 0] + context
    }

    private static func bigEndian32(_ value: UInt64) -> [UInt8] {
        precondition(value < SealedFormat.maxChunks)
        return withUnsafeBytes(of: UInt32(value).bigEndian, Array.init)
    }
}
