import Foundation
import Glibc

/// A server subcommand of this same executable running as a child process, pinned to `cpu` with
/// `taskset` when a core is given and taskset is installed. Its output goes to ours (stderr).
final class ServerProcess {
    private static let taskset = "/usr/bin/taskset"
    private let process = Process()

    /// Whether servers can be pinned on this machine.
    static var canPin: Bool { FileManager.default.isExecutableFile(atPath: taskset) }

    init(arguments: [String], cpu: Int?) throws {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        if let cpu, Self.canPin {
            process.executableURL = URL(fileURLWithPath: Self.taskset)
            process.arguments = ["-c", String(cpu), me] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: me)
            process.arguments = arguments
        }
        try process.run()
    }

    /// Polls `ready` every 10 ms for up to `seconds`; throws when the server exited or never got ready.
    func waitUntil(_ what: String, seconds: Double = 15, _ ready: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try ready() { return }
            guard process.isRunning else { throw BenchError("server exited (status \(process.terminationStatus)) before \(what)") }
            usleep(10_000)
        }
        throw BenchError("timed out waiting until \(what)")
    }

    /// SIGTERM, then waits for the exit (SIGKILL after 5 s).
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
