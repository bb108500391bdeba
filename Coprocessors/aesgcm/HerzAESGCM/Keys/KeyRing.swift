/// An immutable set of keys by id, one of them active: the snapshot one message is sealed or opened
/// with. New messages are sealed with ``active``; a message is opened with whichever listed key its
/// header names. Sendable; share it freely.
public struct KeyRing: Sendable, CustomStringConvertible {
    public let active: NamedKey
    private let keys: [KeyID: NamedKey]

    /// Throws ``KeyFileError/activeNotListed(_:)`` when no key is named `activeID`.
    public init(keys: [NamedKey], activeID: KeyID) throws {
        let byID = Dictionary(keys.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        guard let active = byID[activeID] else { throw KeyFileError.activeNotListed(activeID.value) }
        self.active = active
        self.keys = byID
    }

    public func key(for id: KeyID) -> NamedKey? { keys[id] }

    /// The ring of the key `id` alone, active; nil when it is not listed.
    public func restricted(to id: KeyID) -> KeyRing? {
        guard let key = keys[id] else { return nil }
        return try? KeyRing(keys: [key], activeID: id)
    }

    /// Key ids, sorted.
    public var ids: [KeyID] { keys.keys.sorted { $0.value < $1.value } }

    /// Ids and sizes only, never key bytes.
    public var description: String { "\(keys.count) key(s), active \(active.id)" }
}
