import Glibc

/// Wakes the server's main loop from other threads (`shutdown()`, a ring thread that found its
/// session broken). `wake()` is async-safe and may be called from any thread; `drain()` only by the
/// main thread that polls `readFd`.
final class WakePipe: @unchecked Sendable {
    let readFd: Int32
    private let writeFd: Int32

    init() throws {
        (readFd, writeFd) = try NonBlockingPipe.make()
    }

    deinit {
        close(readFd)
        close(writeFd)
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(writeFd, &byte, 1)
    }

    func drain() { Self.discardPending(readFd) }

    /// Reads and discards whatever a non-blocking fd holds.
    static func discardPending(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(fd, &buffer, buffer.count) > 0 {}
    }
}
