/// Why a key file was refused. Cases name the file, key ids and lengths, never key bytes.
public enum KeyFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case badKeyID(String)
    case badKeyEncoding(id: String)
    case badKeyLength(id: String, bytes: Int)
    case activeNotListed(String)
    case noKeys

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .malformed(let path, let reason): return "\(path): \(reason)"
        case .badKeyID(let id): return "key id \"\(id)\" must be 1 to \(KeyID.maxBytes) characters of [A-Za-z0-9._-]"
        case .badKeyEncoding(let id): return "key \(id) is not valid base64"
        case .badKeyLength(let id, let bytes): return "key \(id) is \(bytes) bytes; AES-GCM keys are 16 (AES-128) or 32 (AES-256)"
        case .activeNotListed(let id): return "active key \(id) is not among the keys"
        case .noKeys: return "no keys"
        }
    }
}
