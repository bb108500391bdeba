import Crypto

/// An AES key (16 bytes: AES-128-GCM, 32 bytes: AES-256-GCM) and its id. Its description names the
/// id and size only, so a key never reaches a log by accident.
public struct NamedKey: Sendable, CustomStringConvertible {
    public let id: KeyID
    public let key: SymmetricKey

    /// Key lengths in bytes the format accepts.
    public static let validLengths: Set<Int> = [16, 32]

    /// Nil unless `bytes` is 16 or 32 bytes long.
    public init?(id: KeyID, bytes: [UInt8]) {
        guard Self.validLengths.contains(bytes.count) else { return nil }
        self.id = id
        self.key = SymmetricKey(data: bytes)
    }

    public var description: String { "key \(id) (AES-\(key.bitCount)-GCM)" }
}
