import Logging
import Synchronization
import HerzCoprocSDK

/// The key sets of every JWKS file the providers name, loaded on first use and replaced when the
/// file changes.
///
/// Guarantees: a reader always gets a complete, parsed key set (or an error); a replacement is
/// one value swap under a short lock, so calls running during a reload finish with the set they
/// started with and later calls see the new one: no call is dropped or sees half a file. A file
/// that becomes unreadable or invalid keeps its last good keys (logged once per file version); a
/// file that never loaded answers ``JWTRejection/keysUnavailable`` until it does. Thread-safe:
/// ring threads read, the watcher thread and the control-plane `reload` refresh.
public final class JWKSStore: Sendable {
    private struct Entry: Sendable {
        /// The file to read, or why the configured name is refused.
        var path: Result<String, JWKSetError>
        /// The last keys that loaded.
        var keys: JWKSet?
        /// The stamp of the version last tried (good or bad); nil when it could not be stat'ed.
        var seen: FileStamp?
        /// Why the last try failed; nil when it loaded.
        var error: String?
    }

    /// One file's outcome of ``refresh(force:)``.
    public enum Refresh: Equatable, Sendable {
        case unchanged
        case reloaded(keys: Int)
        case failed(String)
    }

    private let root: String?
    private let logger: Logger
    private let entries = Mutex<[String: Entry]>([:])

    /// - Parameter root: `--jwks-root`: when set, only files inside it are read (``JWKSFile/resolve(_:root:)``).
    public init(root: String?, logger: Logger) {
        self.root = root
        self.logger = logger
    }

    /// The keys of the file a provider names (`local_jwks.filename`); loads it on first use.
    public func keySet(for name: String) -> Result<JWKSet, JWTRejection> {
        let entry = entries.withLock { $0[name] } ?? firstLoad(name)
        return entry.keys.map { .success($0) } ?? .failure(.keysUnavailable)
    }

    /// Re-reads every known file whose stamp changed (every known file when `force`), keeping the
    /// last good keys of a file that fails. Returns each file's outcome by configured name.
    @discardableResult
    public func refresh(force: Bool) -> [String: Refresh] {
        var outcomes: [String: Refresh] = [:]
        for (name, entry) in entries.withLock({ $0 }) {
            guard case .success(let path) = entry.path else {
                outcomes[name] = .failed(entry.error ?? "refused")
                continue
            }
            if !force, FileStamp(path: path) == entry.seen {
                outcomes[name] = .unchanged
                continue
            }
            let updated = attempt(entry)
            entries.withLock { $0[name] = updated }
            outcomes[name] = updated.error.map(Refresh.failed) ?? .reloaded(keys: updated.keys?.keys.count ?? 0)
        }
        return outcomes
    }

    private func firstLoad(_ name: String) -> Entry {
        let path = JWKSFile.resolve(name, root: root)
        var entry = Entry(path: path, keys: nil, seen: nil, error: nil)
        switch path {
        case .success: entry = attempt(entry)
        case .failure(let error):
            entry.error = error.reason
            logger.error("jwks \(name): refused: \(error.reason)")
        }
        // Two threads may load the same new file at once: the first stored entry wins.
        return entries.withLock { current in
            if let stored = current[name] { return stored }
            current[name] = entry
            return entry
        }
    }

    /// Loads the entry's file: new keys on success; on failure the last good keys stay.
    private func attempt(_ entry: Entry) -> Entry {
        guard case .success(let path) = entry.path else { return entry }
        var updated = entry
        let (stamp, result) = JWKSFile.load(path)
        updated.seen = stamp
        switch result {
        case .success(let keys):
            updated.keys = keys
            updated.error = nil
            let kids = keys.keys.map { $0.keyID.map(JWTRejection.shown) ?? "(no kid)" }.joined(separator: ", ")
            logger.info("jwks \(path): loaded \(keys.keys.count) key(s): \(kids)")
            for note in keys.notes { logger.warning("jwks \(path): \(note)") }
        case .failure(let error):
            updated.error = error.reason
            let kept = entry.keys.map { " (keeping the \($0.keys.count) key(s) loaded before)" } ?? ""
            logger.error("jwks \(path): cannot be used: \(error.reason)\(kept)")
        }
        return updated
    }
}
