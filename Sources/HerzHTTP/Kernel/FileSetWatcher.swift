import Dispatch
import HerzCoproc
import NIOCore
import Synchronization

/// Polls a set of files once a second and calls `changed` on `queue` (the admin queue, which
/// serialises reloads; never an event loop) when any file's ``FileStamp`` (device, inode, size,
/// mtime, ctime) differs from the last one seen: an in-place write, a rename over the file (how
/// cert-manager and certbot deploy) or a delete. Serves the flow-rules file and the TLS files.
///
/// Polling rather than inotify: it sees renames over the file and files on any filesystem, costs
/// one `stat` per file a second, and needs no thread of its own. Thread-safe.
final class FileSetWatcher: Sendable {
    private struct State: Sendable {
        var stamps: [String: FileStamp?] = [:]
        var changed: (@Sendable () -> Void)?
        var task: RepeatedTask?
    }

    private let queue: DispatchQueue
    private let interval: TimeAmount
    private let state = Mutex(State())

    init(queue: DispatchQueue, interval: TimeAmount = .seconds(1)) {
        self.queue = queue
        self.interval = interval
    }

    func start(on eventLoop: EventLoop, changed: @escaping @Sendable () -> Void) {
        let task = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            queue.async { self.poll() }
        }
        state.withLock { $0.changed = changed; $0.task = task }
    }

    /// Watches exactly `paths` from now on; a path already watched keeps its baseline, a new one
    /// takes its current stamp (what the config in force was read from).
    func watch(_ paths: Set<String>) {
        state.withLock { state in
            var next: [String: FileStamp?] = [:]
            for path in paths { next.updateValue(state.stamps[path] ?? FileStamp(path: path), forKey: path) }
            state.stamps = next
        }
    }

    func stop() {
        state.withLock { $0.task?.cancel(); $0.task = nil; $0.changed = nil }
    }

    private func poll() {
        let changed = state.withLock { state -> (@Sendable () -> Void)? in
            var any = false
            for (path, stamp) in state.stamps {
                let now = FileStamp(path: path)
                if now != stamp { state.stamps.updateValue(now, forKey: path); any = true }
            }
            return any ? state.changed : nil
        }
        changed?()
    }
}
