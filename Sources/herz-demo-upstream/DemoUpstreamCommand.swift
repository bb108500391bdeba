import ArgumentParser
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `herz-demo-upstream`: the command line of the demo origin server.
///
/// Prints exactly one line, `herz-demo-upstream NAME listening on HOST:PORT (http1|h2c)`, to
/// stdout (flushed) once the socket is bound, then serves until the process is killed.
struct DemoUpstreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herz-demo-upstream",
        abstract: "A fast HTTP origin server for Herz demos, integration tests and benchmarks."
    )

    @Option(help: "TCP port to listen on (0 picks a free port; the chosen one is printed).")
    var port: Int

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Name shown in `hello from NAME` and the x-upstream header.")
    var name: String = "upstream"

    @Option(help: "Event loop threads (the default is the number of cores).")
    var threads: Int = System.coreCount

    @Flag(help: "Serve cleartext HTTP/2 with prior knowledge only (h2c) instead of HTTP/1.1.")
    var h2: Bool = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let server = DemoUpstreamServer(name: name, wireProtocol: h2 ? .h2c : .http1, group: group)
        let channel = try server.bind(host: host, port: port)
        let boundPort = channel.localAddress?.port ?? port
        print("herz-demo-upstream \(name) listening on \(host):\(boundPort) (\(server.wireProtocol.rawValue))")
        fflush(stdout)
        try channel.closeFuture.wait()
        try group.syncShutdownGracefully()
    }
}
