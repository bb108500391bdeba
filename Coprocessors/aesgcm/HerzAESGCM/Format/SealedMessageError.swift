/// Why a sealed message was refused. Every case names only public facts (key ids, sequence numbers,
/// sizes) and never key bytes or plaintext, so it may be logged.
public enum SealedMessageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes do not start with the format's magic.
    case notSealed
    /// A format version this build does not read.
    case unsupportedVersion(UInt8)
    /// The header's key id is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    case malformedKeyID
    /// The header names a key that is not in the key ring.
    case unknownKey(KeyID)
    /// The header's chunk size is 0 or over ``SealedFormat/maxChunkSize``.
    case chunkSizeOutOfRange(Int)
    /// The message ended inside its header or before a complete final chunk (a dropped final chunk
    /// included).
    case truncated
    /// Chunk `sequence` did not authenticate: tampered, reordered, spliced from another message,
    /// sealed under another key, or cut short.
    case authenticationFailed(sequence: UInt64)
    /// The message would need more than ``SealedFormat/maxChunks`` chunks.
    case tooManyChunks
    /// Bytes offered after the message ended or after it failed.
    case finished

    public var description: String {
        switch self {
        case .notSealed: return "not a sealed message (bad magic)"
        case .unsupportedVersion(let v): return "unsupported format version \(v)"
        case .malformedKeyID: return "malformed key id"
        case .unknownKey(let id): return "unknown key id \(id)"
        case .chunkSizeOutOfRange(let size): return "chunk size \(size) out of range"
        case .truncated: return "message truncated"
        case .authenticationFailed(let sequence): return "chunk \(sequence) failed authentication"
        case .tooManyChunks: return "message exceeds \(SealedFormat.maxChunks) chunks"
        case .finished: return "data after the end of the message"
        }
    }
}
