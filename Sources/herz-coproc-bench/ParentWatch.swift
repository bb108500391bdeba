import Foundation
import Glibc

/// Lets a server subcommand end when the driver that spawned it is gone (killed, crashed) instead
/// of lingering: a background thread checks the parent pid every 100 ms.
enum ParentWatch {
    static func onOrphaned(_ action: @escaping @Sendable () -> Void) {
        let parent = getppid()
        let thread = Thread {
            while getppid() == parent { usleep(100_000) }
            action()
        }
        thread.name = "herz-bench-parent-watch"
        thread.start()
    }
}
