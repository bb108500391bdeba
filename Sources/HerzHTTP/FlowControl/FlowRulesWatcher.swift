import Dispatch
import HerzCoproc
import NIOCore
import Synchronization

/// Polls the flow-rules file once a second (device, inode, size, mtime, ctime: an in-place edit,
/// a rename over it, a delete) and calls `changed` when its ``FileStamp`` differs from the last one
/// seen; `changed` runs on `queue` (the admin queue, which serialises reloads), never on an event
/// loop. The kernel then reloads the whole config, which rereads the rules: one path for SIGHUP,
/// `POST /reload` and a file change.
///
/// Polling rather than inotify: it sees renames over the file and files on any filesystem, costs
/// one `stat` a second, and needs no thread of its own. Thread-safe.
final class FlowRulesWatcher: Sendable {
    private struct Watched: Sendable {
        var path: String?
        var stamp: FileStamp?
        var changed: (@Sendable () -> Void)?
        var task: RepeatedTask?
    }

    private let queue: DispatchQueue
    private let interval: TimeAmount
    private let watched = Mutex(Watched())

    init(queue: DispatchQueue, interval: TimeAmount = .seconds(1)) {
        self.queue = queue
        self.interval = interval
    }

    /// Starts polling on `eventLoop` (the admin loop); `changed` runs on the queue.
    func start(on eventLoop: EventLoop, changed: @escaping @Sendable () -> Void) {
        let task = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            queue.async { self.poll() }
        }
        watched.withLock { $0.changed = changed; $0.task = task }
    }

    /// Watches `path` from now on (nil: nothing). Its current stamp is the baseline: what the
    /// config in force was read from.
    func watch(_ path: String?) {
        watched.withLock { watched in
            guard path != watched.path else { return }
            watched.path = path
            watched.stamp = path.flatMap { FileStamp(path: $0) }
        }
    }

    func stop() {
        watched.withLock { $0.task?.cancel(); $0.task = nil; $0.changed = nil }
    }

    private func poll() {
        let changed = watched.withLock { watched -> (@Sendable () -> Void)? in
            guard let path = watched.path else { return nil }
            let now = FileStamp(path: path)
            guard now != watched.stamp else { return nil }
            watched.stamp = now
            return watched.changed
        }
        changed?()
    }
}
