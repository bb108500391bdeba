/// Opens a sealed message that arrives in pieces, releasing plaintext chunk by chunk and only once
/// each chunk authenticated.
///
/// Guarantees: a chunk's plaintext is returned only after its tag verified at its own position (so
/// reordered, dropped, duplicated, spliced or altered chunks are refused); the end of the message is
/// accepted only when the final-flagged chunk authenticated as the last bytes of the input (so a
/// truncated message or a missing final chunk is refused); a call that throws returns no plaintext
/// at all, and every later call throws ``SealedMessageError/finished``; between calls it holds at
/// most one incomplete chunk (`chunkSize + 15` bytes) or an incomplete header. The key is chosen by
/// the header's key id from the ring given at creation, so a key rotation never changes a message
/// being opened. A value owned by one stream; not thread-safe.
public struct StreamOpener {
    private enum State {
        case header
        case chunks(MessageCipher, chunkSize: Int)
        case done
    }

    private let keys: KeyRing
    private let context: [UInt8]
    private var state = State.header
    private var pending: [UInt8] = []
    private var sequence: UInt64 = 0
    /// The message's key id, once its header was read.
    public private(set) var keyID: KeyID?

    public init(keys: KeyRing, context: String) {
        self.keys = keys
        self.context = Array(context.utf8)
    }

    /// Ciphertext held until its chunk (or the header) is complete.
    public var bufferedBytes: Int { pending.count }

    /// The message ended (its final chunk authenticated) or was refused: nothing more is accepted.
    public var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// Takes the next ciphertext piece; `end` says the message ends with it. Returns the plaintext
    /// of every chunk completed and authenticated by this piece (possibly empty).
    public mutating func open(_ ciphertext: [UInt8], end: Bool) throws -> [UInt8] {
        if case .done = state { throw SealedMessageError.finished }
        do {
            return try step(ciphertext, end: end)
        } catch {
            state = .done
            pending = []
            throw error
        }
    }

    private mutating func step(_ ciphertext: [UInt8], end: Bool) throws -> [UInt8] {
        pending += ciphertext
        var consumed = 0
        if case .header = state {
            guard let (header, length) = try MessageHeader.parse(pending[...]) else {
                if end { throw SealedMessageError.truncated }
                return []
            }
            guard let key = keys.key(for: header.keyID) else { throw SealedMessageError.unknownKey(header.keyID) }
            keyID = header.keyID
            let cipher = MessageCipher(key: key, header: header, headerBytes: Array(pending[..<length]), context: context)
            state = .chunks(cipher, chunkSize: header.chunkSize)
            consumed = length
        }
        guard case .chunks(let cipher, let chunkSize) = state else { preconditionFailure("opened past the end") }
        var out: [UInt8] = []
        let sealedChunk = chunkSize + SealedFormat.tagBytes
        // A chunk of full size is never the final one: the final chunk holds fewer than chunkSize bytes.
        while pending.count - consumed >= sealedChunk {
            guard sequence + 1 < SealedFormat.maxChunks else { throw SealedMessageError.tooManyChunks }
            out += try cipher.open(pending[consumed..<consumed + sealedChunk], sequence: sequence, final: false)
            consumed += sealedChunk
            sequence += 1
        }
        if end {
            guard pending.count - consumed >= SealedFormat.tagBytes else { throw SealedMessageError.truncated }
            out += try cipher.open(pending[consumed...], sequence: sequence, final: true)
            state = .done
            pending = []
            return out
        }
        pending.removeFirst(consumed)
        return out
    }
}
