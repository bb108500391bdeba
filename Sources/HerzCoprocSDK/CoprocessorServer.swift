import Atomics
import Foundation
import Glibc
import Logging

/// The coprocessor side of docs/coprocessor-protocol.md: listens on `unix:PATH`, attaches kernel
/// sessions (several at once), serves each ring pair on its own thread through a
/// `CoprocessorFilter`, and answers the ZeroMQ control socket at `ipc://PATH.<pid>.ctl`.
///
/// Guarantees: a kernel hello with another protocol version, ring version or coprocessor name is
/// refused with one log line naming both sides; a session whose rings break the protocol, or whose
/// kernel goes away, is closed without affecting the others; after `drain` the in-flight calls are
/// answered before `drained`, and once drained with no session left `run()` returns; SIGTERM (when
/// `handleSignals`) drains the same way within `terminationGraceMillis`, then `run()` returns.
///
/// Threads: `run()` blocks the calling thread (the "main thread"), which owns the listener, the
/// ROUTER socket and the session table; ring threads are started per session. `shutdown()` is the
/// one method other threads may call.
public final class CoprocessorServer: @unchecked Sendable {
    public let name: String
    public let buildVersion: String
    public let options: CoprocessorOptions
    let filter: any CoprocessorFilter
    let handleSignals: Bool
    let logger: Logger
    let counters = ServerCounters()
    let wake: WakePipe
    let generation = UInt64(Date().timeIntervalSince1970 * 1e9)
    var sessions: [UInt64: ServerSession] = [:]
    var drainedOnce = false

    /// `handleSignals`: install SIGTERM/SIGINT handling (executables: yes; in-process tests: no).
    public init(name: String, buildVersion: String, filter: any CoprocessorFilter, options: CoprocessorOptions,
                handleSignals: Bool = true) throws {
        self.name = name
        self.buildVersion = buildVersion
        self.filter = filter
        self.options = options
        self.handleSignals = handleSignals
        self.logger = options.logger
        self.wake = try WakePipe()
    }

    /// `ipc://PATH.<pid>.ctl`.
    public var controlEndpoint: String { "ipc://\(controlPath)" }
    var controlPath: String { "\(options.listenPath).\(getpid()).ctl" }

    /// Asks `run()` to drain and return, as SIGTERM does. Any thread.
    public func shutdown() {
        terminationRequested.store(true, ordering: .releasing)
        wake.wake()
    }
    private let terminationRequested = ManagedAtomic<Bool>(false)

    /// Serves until drained with no session left, or until SIGTERM / `shutdown()` and the grace
    /// period. Throws only when the endpoints cannot be set up.
    public func run() throws {
        removeStaleControlFiles()
        let router = try ZMQSocket(.router)
        try router.bind(controlEndpoint)
        defer {
            router.close()
            unlink(controlPath)
        }
        var listener: AttachListener? = try AttachListener(path: options.listenPath)
        defer { listener?.close() }
        let signalFd = handleSignals ? try TerminationSignals.install() : -1
        var terminateBy: UInt64?
        logger.info("coprocessor \(name) \(buildVersion) listening on unix:\(options.listenPath), control \(controlEndpoint)")

        while true {
            let ids = Array(sessions.keys)
            let fds = [wake.readFd, signalFd, listener?.fd ?? -1] + ids.map { sessions[$0]!.attach.fd }
            let waiting = terminateBy != nil || sessions.values.contains { $0.drainDeadline != nil }
            let ready = try ZMQPoller.poll(sockets: [router], fds: fds, timeoutMillis: waiting ? 2 : -1)

            if ready.fds[0] { wake.drain() }
            if ready.fds[1] { WakePipe.discardPending(signalFd) }
            if (ready.fds[1] || terminationRequested.load(ordering: .acquiring)) && terminateBy == nil {
                logger.info("coprocessor \(name): terminating, draining \(sessions.count) session(s)")
                terminateBy = MonotonicClock.nanos() + UInt64(options.terminationGraceMillis) * 1_000_000
                listener?.close()
                listener = nil
            }
            if ready.sockets[0] { try serveControl(router) }
            if ready.fds[2], let listener { acceptSessions(listener) }
            for (offset, id) in ids.enumerated() where ready.fds[3 + offset] {
                if let session = sessions[id], session.attach.peerClosed() { closeSession(id, why: "the kernel closed the attach socket") }
            }
            for (id, session) in sessions where session.isBroken { closeSession(id, why: "protocol violation") }
            try finishDrains(router)

            if drainedOnce && sessions.isEmpty {
                logger.info("coprocessor \(name): drained, no session left, exiting")
                return
            }
            if let deadline = terminateBy,
               sessions.values.allSatisfy({ $0.unansweredWork == 0 }) || MonotonicClock.nanos() >= deadline {
                for id in Array(sessions.keys) { closeSession(id, why: "terminating") }
                return
            }
        }
    }

    func closeSession(_ id: UInt64, why: String) {
        guard let session = sessions.removeValue(forKey: id) else { return }
        logger.info("coprocessor \(name): session \(id) closed (\(why))")
        session.close()
    }

    /// Removes `PATH.<pid>.ctl` files whose process is gone.
    private func removeStaleControlFiles() {
        let url = URL(fileURLWithPath: options.listenPath)
        let directory = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + "."
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) && entry.hasSuffix(".ctl") {
            let middle = entry.dropFirst(prefix.count).dropLast(4)
            guard let pid = Int32(middle), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink("\(directory)/\(entry)")
        }
    }
}
