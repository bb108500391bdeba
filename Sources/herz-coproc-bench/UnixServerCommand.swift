import ArgumentParser
import CHerzSys
import Glibc

/// The unix-socket variant's server: accepts connections on a unix stream socket and serves each
/// with a blocking read → echo filter → write loop. Answers to every call that arrived in one
/// read go back in one write. Exits when the process that started it is gone.
struct UnixServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unix-server", abstract: "Serve the echo filter over a plain unix stream socket (spawned by `run`).")

    @Option(help: "Socket path to listen on.")
    var path: String

    func run() throws {
        unlink(path)
        let listener = herz_unix_bind(path)
        guard listener >= 0, listen(listener, 4) == 0 else {
            throw BenchError("unix-server: cannot listen on \(path): \(String(cString: strerror(errno)))")
        }
        ParentWatch.onOrphaned { unlink(path); Glibc.exit(0) }
        while true {
            let connection = herz_accept_cloexec(listener)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                throw BenchError("unix-server: accept: \(String(cString: strerror(errno)))")
            }
            let socket = FramedSocket(fd: connection)
            defer { socket.close() }
            try serve(socket)
        }
    }

    private func serve(_ socket: FramedSocket) throws {
        let filter = EchoFilter()
        while let answer = try socket.reader.next({ try filter.answer(frame: $0) }) {
            if let answer { try socket.writer.append(answer) }
            if !socket.reader.hasBufferedFrame { try socket.writer.flush() }
        }
    }
}
