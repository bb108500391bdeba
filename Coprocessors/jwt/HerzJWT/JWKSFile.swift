import Foundation
import HerzCoprocSDK

/// Reads one JWKS file from disk, bounded in size, and tells where a configured name may be
/// read from. Pure apart from the file system; any thread.
enum JWKSFile {
    /// JWKS files larger than this are refused (a JWKS of dozens of RSA keys is ~50 KiB).
    static let maxBytes = 1 << 20

    /// The file to open for `name` (a `local_jwks.filename` of the config): with a `root`, a
    /// relative name is taken inside it and an absolute one must lie inside it; `..` components
    /// are refused either way, so the kernel's config cannot make herz-jwt read other files.
    static func resolve(_ name: String, root: String?) -> Result<String, JWKSetError> {
        guard !name.isEmpty else { return .failure(JWKSetError(reason: "empty file name")) }
        guard !name.split(separator: "/").contains("..") else { return .failure(JWKSetError(reason: "'..' is not allowed in JWKS paths")) }
        guard let root else { return .success(name) }
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        if !name.hasPrefix("/") { return .success(base + "/" + name) }
        guard name.hasPrefix(base + "/") else { return .failure(JWKSetError(reason: "outside the JWKS root \(root)")) }
        return .success(name)
    }

    /// Reads and parses `path`. The stamp is taken before reading (so a change during the read
    /// shows as a new stamp next time) and is nil when the file cannot be stat'ed.
    static func load(_ path: String) -> (stamp: FileStamp?, keys: Result<JWKSet, JWKSetError>) {
        guard let stamp = FileStamp(path: path) else { return (nil, .failure(JWKSetError(reason: String(cString: strerror(errno))))) }
        guard stamp.size <= maxBytes else { return (stamp, .failure(JWKSetError(reason: "larger than \(maxBytes) bytes"))) }
        guard let data = FileManager.default.contents(atPath: path) else { return (stamp, .failure(JWKSetError(reason: "cannot be read"))) }
        guard data.count <= maxBytes else { return (stamp, .failure(JWKSetError(reason: "larger than \(maxBytes) bytes"))) }
        do {
            return (stamp, .success(try JWKSet.parse(data)))
        } catch let error as JWKSetError {
            return (stamp, .failure(error))
        } catch {
            return (stamp, .failure(JWKSetError(reason: "\(error)")))
        }
    }
}
