import Foundation

/// The key file (docs/aes-gcm-format.md, "Key file"): JSON naming the active key and listing every
/// key by id as standard base64,
///
///     { "active": "2026-11", "keys": { "2026-10": "q83v…", "2026-11": "ASNF…" } }
///
/// Guarantees: a file is accepted whole or refused with a ``KeyFileError`` (unknown fields, a bad
/// id, a key that is not 16 or 32 bytes, an active id that is not listed): never half-loaded.
public enum KeyFile {
    /// Reads and parses `path`.
    public static func load(path: String) throws -> KeyRing {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw KeyFileError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try parse(data, path: path)
    }

    /// Parses the contents of a key file (`path` only names it in errors).
    public static func parse(_ data: Data, path: String) throws -> KeyRing {
        guard let object = try? JSONSerialization.jsonObject(with: data), let root = object as? [String: Any] else {
            throw KeyFileError.malformed(path: path, reason: "not a JSON object")
        }
        let unknown = Set(root.keys).subtracting(["active", "keys"])
        guard unknown.isEmpty else {
            throw KeyFileError.malformed(path: path, reason: "unknown field(s) \(unknown.sorted().joined(separator: ", "))")
        }
        guard let activeName = root["active"] as? String else { throw KeyFileError.malformed(path: path, reason: "\"active\" must be a key id") }
        guard let entries = root["keys"] as? [String: Any] else { throw KeyFileError.malformed(path: path, reason: "\"keys\" must map ids to base64 keys") }
        guard !entries.isEmpty else { throw KeyFileError.noKeys }
        let keys = try entries.keys.sorted().map { name -> NamedKey in
            guard let id = KeyID(name) else { throw KeyFileError.badKeyID(name) }
            guard let text = entries[name] as? String, let bytes = Data(base64Encoded: text) else { throw KeyFileError.badKeyEncoding(id: name) }
            guard let key = NamedKey(id: id, bytes: Array(bytes)) else { throw KeyFileError.badKeyLength(id: name, bytes: bytes.count) }
            return key
        }
        guard let activeID = KeyID(activeName) else { throw KeyFileError.badKeyID(activeName) }
        return try KeyRing(keys: keys, activeID: activeID)
    }
}
