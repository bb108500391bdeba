import Foundation
import Glibc
import XCTest

/// A real `redis-server` (Debian's package; `scripts/install-deps` installs it) started by a test
/// on a free loopback port, with nothing persisted (`--save "" --appendonly no`), stopped when the
/// test ends. Tests pause it (SIGSTOP), resume it, kill it and start it again on the same port.
final class RedisServerProcess {
    let port: Int
    private let directory: URL
    private var process: Process?

    static var executable: String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { "\($0)/redis-server" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts a server; fails the test (with how to install one) when there is no `redis-server`.
    init(file: StaticString = #filePath, line: UInt = #line) throws {
        guard Self.executable != nil else {
            XCTFail("redis-server not found: run scripts/install-deps (apt-get install redis-server)", file: file, line: line)
            throw RedisServerError.notInstalled
        }
        port = try Self.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herz-redis-\(getpid())-\(port)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit { stop() }

    var pid: pid_t? { process.map(\.processIdentifier) }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable ?? "/usr/bin/redis-server")
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--loglevel", "warning", "--dir", directory.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while !Self.accepts(port: port) {
            guard Date() < deadline, process.isRunning else { throw RedisServerError.didNotStart(port) }
            usleep(10_000)
        }
    }

    func pause() { signal(SIGSTOP) }
    func resume() { signal(SIGCONT) }

    /// SIGKILL and wait: the port refuses connections afterwards.
    func kill() {
        guard let process else { return }
        signal(SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    func stop() {
        guard let process else { return }
        signal(SIGCONT)
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        try? FileManager.default.removeItem(at: directory)
    }

    private func signal(_ number: Int32) {
        if let pid { Glibc.kill(pid, number) }
    }

    /// A port nothing listens on now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisServerError.noPort }
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw RedisServerError.noPort }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return address
    }
}

enum RedisServerError: Error {
    case notInstalled
    case noPort
    case didNotStart(Int)
}
