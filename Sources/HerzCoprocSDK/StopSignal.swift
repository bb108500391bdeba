import Atomics
import Glibc

/// Tells a session's ring threads to stop: `fire()` sets a flag (checked between batches) and
/// closes a pipe's write end, so a thread asleep in `poll` wakes on the read end's hang-up. Fired by
/// the server's main thread; read by the ring threads, which retain it (the read end closes when
/// the last of them lets go).
final class StopSignal: @unchecked Sendable {
    let readFd: Int32
    private var writeFd: Int32
    private let fired = ManagedAtomic<Bool>(false)

    init() throws {
        (readFd, writeFd) = try NonBlockingPipe.make()
    }

    deinit {
        fire()
        close(readFd)
    }

    var isFired: Bool { fired.load(ordering: .acquiring) }

    /// Idempotent; call from the owning (main) thread only.
    func fire() {
        guard fired.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        close(writeFd)
        writeFd = -1
    }
}
