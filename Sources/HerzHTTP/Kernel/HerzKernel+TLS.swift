import HerzCore
import Logging
import NIOSSL

/// Certificate and key rotation without dropping connections: on a file change (polled) and on
/// every config reload, each TLS listener gets a context built from the files as they are now, and
/// each TLS cluster rebuilds its client contexts. Open connections keep the context they
/// handshook with; new handshakes use the new one. A file that fails to load keeps the old context
/// and logs the path and reason.
extension HerzKernel {
    /// Every TLS file the config in force reads.
    static func tlsFiles(_ snapshot: ConfigSnapshot) -> Set<String> {
        var files = Set<String>()
        for listener in snapshot.config.listeners where listener.protocol == .https {
            files.formUnion(listener.tls?.files ?? [])
        }
        for cluster in snapshot.clusters.values { files.formUnion(cluster.config.tls?.files ?? []) }
        return files
    }

    func startTLSWatcher() {
        tlsWatcher.watch(Self.tlsFiles(currentSnapshot))
        tlsWatcher.start(on: adminGroup.next()) { [weak self] in self?.reloadTLSFiles() }
    }

    /// Rebuilds every TLS context from the files (called on the admin queue).
    func reloadTLSFiles() {
        let listeners = withBoundListeners { $0 }
        let snapshot = currentSnapshot
        var failures = 0
        for (name, bound) in listeners where bound.config.protocol == .https {
            guard let tls = snapshot.listeners[name]?.config.tls else { continue }
            do {
                let context = try DownstreamTLS.makeContext(tls)
                bound.tlsContext.withLockedValue { $0 = context }
            } catch {
                failures += 1
                logger.error("TLS files of listener not reloaded; the previous certificate keeps serving",
                             metadata: ["listener": "\(name)", "error": "\(error)"])
            }
        }
        for (name, cluster) in snapshot.clusters {
            guard let tls = cluster.tls else { continue }
            do { try tls.reloadFiles() } catch {
                failures += 1
                logger.error("TLS files of cluster not reloaded; the previous context stays",
                             metadata: ["cluster": "\(name)", "error": "\(error)"])
            }
        }
        tlsWatcher.watch(Self.tlsFiles(snapshot))
        if failures == 0 { logger.info("TLS certificates reloaded from files") }
    }
}
