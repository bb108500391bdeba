import Foundation

/// Whole messages in one call, for values that are small and complete (header and cookie values,
/// the command line): the same format and guarantees as ``StreamSealer`` and ``StreamOpener``.
public enum SealedMessage {
    /// `plaintext` sealed under `key` for `context`.
    public static func seal(_ plaintext: [UInt8], key: NamedKey, context: String,
                            chunkSize: Int = SealedFormat.defaultChunkSize) -> [UInt8] {
        var sealer = StreamSealer(key: key, context: context, chunkSize: chunkSize)
        do {
            return try sealer.seal(plaintext, end: true)
        } catch {
            preconditionFailure("a fresh sealer refused one in-memory message: \(error)")
        }
    }

    /// The plaintext of the complete message `sealed`, opened with a key from `keys` for `context`.
    public static func open(_ sealed: [UInt8], keys: KeyRing, context: String) throws -> [UInt8] {
        var opener = StreamOpener(keys: keys, context: context)
        return try opener.open(sealed, end: true)
    }
}
