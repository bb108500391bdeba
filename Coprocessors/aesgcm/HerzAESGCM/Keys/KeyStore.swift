import Glibc
import Logging
import Synchronization
import HerzCoprocSDK

/// The key ring in force, loaded from the key file and replaced as a whole on reload.
///
/// Guarantees: `current` always returns a complete ring that was accepted (the initial load must
/// succeed; a refused file later keeps the previous ring and is reported); a reload never disturbs a
/// message already being sealed or opened, because each message takes its ring once, at its start;
/// reloads are serialized; logs name key ids and counts, never key bytes. Thread-safe: read from any
/// ring thread, reloaded from the control thread or the ``KeyFileWatcher``.
public final class KeyStore: Sendable {
    public let path: String
    private let logger: Logger
    private let state: Mutex<(ring: KeyRing, stamp: FileStamp?)>
    private let reloading = Mutex(())

    /// Loads `path`; throws when it is refused (a coprocessor without keys must not start).
    public init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        let stamp = FileStamp(path: path)
        let ring = try KeyFile.load(path: path)
        self.state = Mutex((ring, stamp))
        Self.warnIfReadableByOthers(path, logger: logger)
        logger.info("aes-gcm keys loaded from \(path): \(ring)")
    }

    /// The ring in force.
    public var current: KeyRing { state.withLock { $0.ring } }

    /// Reloads the file now (the control-plane reload). Returns the new ring; throws, keeping the
    /// previous ring, when the file is refused.
    @discardableResult
    public func reload() throws -> KeyRing {
        try reloading.withLock { _ in try load(stamp: FileStamp(path: path)) }
    }

    /// Reloads when the file changed since the last attempt (the watcher's poll): the new ring, nil
    /// when unchanged or refused (a refusal is logged once per change of the file).
    @discardableResult
    public func reloadIfChanged() -> KeyRing? {
        reloading.withLock { _ in
            let stamp = FileStamp(path: path)
            guard stamp != state.withLock({ $0.stamp }) else { return nil }
            return try? load(stamp: stamp)
        }
    }

    private func load(stamp: FileStamp?) throws -> KeyRing {
        do {
            let ring = try KeyFile.load(path: path)
            state.withLock { $0 = (ring, stamp) }
            Self.warnIfReadableByOthers(path, logger: logger)
            logger.info("aes-gcm keys reloaded from \(path): \(ring)")
            return ring
        } catch {
            state.withLock { $0.stamp = stamp }  // report a refused file once, not on every poll
            logger.error("aes-gcm keys not reloaded, keeping \(current): \(error)")
            throw error
        }
    }

    private static func warnIfReadableByOthers(_ path: String, logger: Logger) {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o007 != 0 {
            logger.warning("aes-gcm key file \(path) is accessible to other users; make it 0600 or 0640")
        }
    }
}
