import Foundation

/// Polls the JWKS files of a ``JWKSStore`` for changes on its own thread, every `interval`
/// milliseconds: a rotated or edited file is picked up without a restart or a control message.
/// Polling (one `stat` per file and interval) rather than inotify, so a file replaced by rename,
/// a symlink swap or an edit in place are all seen the same way. Started once; runs until the
/// process exits.
public final class JWKSWatcher: Sendable {
    private let store: JWKSStore
    private let intervalMillis: Int

    public init(store: JWKSStore, intervalMillis: Int) {
        self.store = store
        self.intervalMillis = max(1, intervalMillis)
    }

    public func start() {
        let thread = Thread { [store, intervalMillis] in
            while true {
                Thread.sleep(forTimeInterval: Double(intervalMillis) / 1000)
                store.refresh(force: false)
            }
        }
        thread.name = "jwks-watcher"
        thread.start()
    }
}
