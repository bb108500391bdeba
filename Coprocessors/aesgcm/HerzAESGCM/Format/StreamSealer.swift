/// Seals a message that arrives in pieces, emitting ciphertext as soon as it can: the header with
/// the first output, then each chunk the moment its `chunkSize` plaintext bytes are in, and at the end
/// a final chunk with the remainder (0 to `chunkSize - 1` bytes).
///
/// Guarantees: holds at most `chunkSize - 1` plaintext bytes between calls; the bytes emitted across
/// all calls form exactly one sealed message (docs/aes-gcm-format.md) whatever the piece sizes; each
/// message gets a fresh salt from the system's CSPRNG and so its own AES key; after the end (or an
/// error) it refuses more input. A value owned by one stream; not thread-safe.
public struct StreamSealer {
    private let cipher: MessageCipher
    private let chunkSize: Int
    private var header: [UInt8]?
    private var pending: [UInt8] = []
    private var sequence: UInt64 = 0
    private var done = false

    /// `salt` is for known-answer tests only; leave it nil to draw a fresh one.
    public init(key: NamedKey, context: String, chunkSize: Int = SealedFormat.defaultChunkSize, salt: [UInt8]? = nil) {
        var rng = SystemRandomNumberGenerator()
        let salt = salt ?? (0..<SealedFormat.saltBytes).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        let header = MessageHeader(keyID: key.id, chunkSize: chunkSize, salt: salt)
        let headerBytes = header.encoded()
        self.cipher = MessageCipher(key: key, header: header, headerBytes: headerBytes, context: Array(context.utf8))
        self.chunkSize = chunkSize
        self.header = headerBytes
    }

    /// Plaintext held back until its chunk fills or the message ends.
    public var bufferedBytes: Int { pending.count }

    /// The message was closed (or refused to grow): nothing more is accepted.
    public var isFinished: Bool { done }

    /// Takes the next plaintext piece; `end` closes the message. Returns the ciphertext to release now
    /// (possibly empty). Throws ``SealedMessageError/finished`` after the end and
    /// ``SealedMessageError/tooManyChunks`` past 2^32 chunks.
    public mutating func seal(_ plaintext: [UInt8], end: Bool) throws -> [UInt8] {
        guard !done else { throw SealedMessageError.finished }
        var out = header ?? []
        header = nil
        out.reserveCapacity(out.count + plaintext.count + (plaintext.count / chunkSize + 2) * SealedFormat.tagBytes)
        var rest = plaintext[...]
        while pending.count + rest.count >= chunkSize {
            guard sequence + 1 < SealedFormat.maxChunks else {
                done = true
                throw SealedMessageError.tooManyChunks
            }
            let take = chunkSize - pending.count
            if pending.isEmpty {
                cipher.seal(rest.prefix(take), sequence: sequence, final: false, into: &out)
            } else {
                pending.append(contentsOf: rest.prefix(take))
                cipher.seal(pending, sequence: sequence, final: false, into: &out)
                pending.removeAll(keepingCapacity: true)
            }
            rest = rest.dropFirst(take)
            sequence += 1
        }
        pending.append(contentsOf: rest)
        if end {
            cipher.seal(pending, sequence: sequence, final: true, into: &out)
            pending = []
            done = true
        }
        return out
    }
}
