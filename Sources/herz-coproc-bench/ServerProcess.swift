import Foundation
import Glibc

/// A server running as a child process — a subcommand of this same executable, or another program
/// (a real coprocessor) — pinned to `cpu` with `taskset` when a core is given and taskset is
/// installed. Its output goes to ours (stderr).
final class ServerProcess {
    private static let taskset = "/usr/bin/taskset"
    private let process = Process()

    /// Whether servers can be pinned on this machine.
    static var canPin: Bool { FileManager.default.isExecutableFile(atPath: taskset) }

    /// This executable.
    static func me() throws -> String { try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") }

    /// A program built next to this executable (`herz-aesgcm`, `herz-jwt`).
    static func sibling(_ name: String) throws -> String {
        URL(fileURLWithPath: try me()).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs `program` (default: this executable) with `arguments`; taskset execs it, so the pid is the program's.
    init(program: String? = nil, arguments: [String], cpu: Int?) throws {
        let executable = try program ?? Self.me()
        if let cpu, Self.canPin {
            process.executableURL = URL(fileURLWithPath: Self.taskset)
            process.arguments = ["-c", String(cpu), executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        try process.run()
    }

    /// CPU seconds (user + system, all threads) the process has used so far, from /proc.
    func cpuSeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
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
