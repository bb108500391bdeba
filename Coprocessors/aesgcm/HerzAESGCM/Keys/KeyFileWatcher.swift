import Dispatch

/// Polls the key file every `interval` and reloads its ``KeyStore`` when the file changed (written in
/// place or replaced by a rename), so keys rotate without a restart or a control message.
///
/// Guarantees: polls run one at a time on the watcher's own queue and never block a ring thread
/// (readers keep the previous ring until the new one is swapped in); after `stop()` returns no poll
/// starts. Owned by the process's main code; `stop()` may be called from any thread.
public final class KeyFileWatcher: @unchecked Sendable {
    private let timer: DispatchSourceTimer

    public init(store: KeyStore, intervalMillis: Int) {
        precondition(intervalMillis > 0)
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "herz.aesgcm.keys"))
        timer.schedule(deadline: .now() + .milliseconds(intervalMillis), repeating: .milliseconds(intervalMillis),
                       leeway: .milliseconds(intervalMillis / 10))
        timer.setEventHandler { store.reloadIfChanged() }
        timer.resume()
        self.timer = timer
    }

    public func stop() {
        timer.cancel()
    }

    deinit {
        timer.cancel()
    }
}
