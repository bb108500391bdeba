import Atomics
import CHerzSys
import Dispatch
import Foundation
import Glibc
import HerzCoproc
import NIOConcurrencyHelpers

/// Variant (b): the same Cap'n Proto frames over a plain unix stream socket to a `unix-server`
/// process running the same echo filter, with blocking reads and writes on both sides.
///
/// Latency: one thread writes a call and blocks reading its answer. Throughput: a writer thread
/// keeps `window` calls outstanding (a semaphore of permits; all free permits go out in one write)
/// while the calling thread reads answers and hands permits back — two threads, so a full socket
/// buffer in one direction can never deadlock the other.
final class UnixSocketVariant: RoundTripVariant {
    private let server: ServerProcess
    private let socket: FramedSocket

    init(path: String, serverCPU: Int?) throws {
        server = try ServerProcess(arguments: ["unix-server", "--path", path], cpu: serverCPU)
        var fd: Int32 = -1
        try server.waitUntil("the unix-server accepts connections") {
            fd = herz_unix_connect(path)
            return fd >= 0
        }
        socket = FramedSocket(fd: fd)
    }

    func latency(_ call: BenchCall, durationNanos: UInt64, pacer: Pacer?) throws -> Measurement {
        var call = call
        return try measureBlocking(durationNanos: durationNanos, pacer: pacer) {
            let sent = call.next()
            try socket.writer.append(.call(sent))
            try socket.writer.flush()
            try readAnswer(to: sent.callId, of: call)
        }
    }

    func throughput(_ call: BenchCall, durationNanos: UInt64, window: Int) throws -> Measurement {
        // Created empty and filled, because libdispatch traps when a semaphore dies below its initial value.
        let permits = DispatchSemaphore(value: 0)
        for _ in 0..<window { permits.signal() }
        let sent = ManagedAtomic<Int>(0)
        let stopping = ManagedAtomic<Bool>(false)
        let writerDone = ManagedAtomic<Bool>(false)
        let writerError = NIOLockedValueBox<Error?>(nil)
        let writer = socket.writer
        var recorder = Recorder()
        let end = recorder.startedAt &+ durationNanos
        let thread = Thread {
            var call = call
            do {
                while true {
                    // Every permit free now goes out in one write.
                    permits.wait()
                    var batch = 1
                    while batch < window, permits.wait(timeout: .now()) == .success { batch += 1 }
                    if stopping.load(ordering: .acquiring) { break }
                    for _ in 0..<batch {
                        sent.wrappingIncrement(ordering: .releasing)
                        try writer.append(.call(call.next()))
                    }
                    try writer.flush()
                }
            } catch {
                writerError.withLockedValue { $0 = error }
            }
            writerDone.store(true, ordering: .releasing)
        }
        thread.start()
        let firstId = call.call.callId &+ 1
        var received = 0
        while true {
            if received < sent.load(ordering: .acquiring) {
                try readAnswer(to: firstId &+ UInt64(received), of: call)
                received += 1
                if recorder.count() >= end { stopping.store(true, ordering: .releasing) }
                permits.signal()
            } else if writerDone.load(ordering: .acquiring) {
                if received == sent.load(ordering: .acquiring) { break }
            } else {
                sched_yield()
            }
        }
        if let error = writerError.withLockedValue({ $0 }) { throw error }
        return recorder.finish()
    }

    func stop() {
        socket.close()
        server.stop()
    }

    /// Blocks for the next answer and checks it answers call `callId` with the echo.
    private func readAnswer(to callId: UInt64, of call: BenchCall) throws {
        guard let answer = try socket.reader.next({ try WireCodec.decodeAnswer($0) }) else {
            throw BenchError("the unix-server closed the connection")
        }
        guard answer.callId == callId else { throw BenchError("answer for call \(answer.callId), expected \(callId)") }
        try call.check(answer.result)
    }
}
