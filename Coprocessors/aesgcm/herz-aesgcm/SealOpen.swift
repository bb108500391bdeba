import ArgumentParser
import Foundation
import Glibc
import HerzAESGCM

/// `herz-aesgcm seal --keys FILE < plain > sealed`: one sealed message with the active key, written
/// chunk by chunk as standard input arrives.
struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Seal standard input into one message on standard output.")

    @OptionGroup var keys: KeysArgument
    @Option(help: "AAD context: body, header:NAME or cookie:NAME.") var context = "body"
    @Option(name: .customLong("chunk-size"), help: "Plaintext bytes per chunk.") var chunkSize = SealedFormat.defaultChunkSize

    func validate() throws {
        guard (1...SealedFormat.maxChunkSize).contains(chunkSize) else {
            throw ValidationError("--chunk-size must be 1...\(SealedFormat.maxChunkSize)")
        }
    }

    func run() throws {
        var sealer = StreamSealer(key: try KeyFile.load(path: keys.keys).active, context: context, chunkSize: chunkSize)
        try StandardStreams.pump { try sealer.seal($0, end: $1) }
    }
}

/// `herz-aesgcm open --keys FILE < sealed > plain`: writes each chunk's plaintext once it
/// authenticated; exits 1 with the reason on standard error when the message is refused (what was
/// written before belongs to chunks that authenticated, but the message as a whole is not valid).
struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Open one sealed message from standard input.")

    @OptionGroup var keys: KeysArgument
    @Option(help: "AAD context the message was sealed for.") var context = "body"

    func run() throws {
        var opener = StreamOpener(keys: try KeyFile.load(path: keys.keys), context: context)
        do {
            try StandardStreams.pump { try opener.open($0, end: $1) }
        } catch let error as SealedMessageError {
            FileHandle.standardError.write(Data("herz-aesgcm open: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// Standard input through a streaming transform to standard output.
enum StandardStreams {
    static let readSize = 64 * 1024

    /// Feeds standard input to `transform` piece by piece, as `read(2)` returns it (`end` with the
    /// last, empty, piece), and writes what it returns to standard output as it goes.
    static func pump(_ transform: (_ piece: [UInt8], _ end: Bool) throws -> [UInt8]) throws {
        var buffer = [UInt8](repeating: 0, count: readSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, readSize) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            let out = try transform(Array(buffer[..<count]), count == 0)
            if !out.isEmpty { try FileHandle.standardOutput.write(contentsOf: out) }
            if count == 0 { return }
        }
    }
}
