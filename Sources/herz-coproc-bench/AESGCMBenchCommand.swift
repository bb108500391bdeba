import ArgumentParser
import Crypto
import Foundation
import HerzAESGCM
import HerzCoproc
import HerzCore
import Logging
import NIOCore

/// `herz-coproc-bench aesgcm`: AES-256-GCM throughput for bodies sealed in 16 KiB chunks, three
/// ways in one run (bench/README.md, "Crypto coprocessors"):
/// - **swift-crypto in-process**: `AES.GCM.seal` of each chunk on this thread — the reference;
/// - **StreamSealer in-process**: herz-aesgcm's own sealer (message key derivation, header, AAD
///   and nonce per chunk) on this thread — what the format costs over bare AES-GCM;
/// - **herz-aesgcm over the rings**: the real coprocessor process, driven by the kernel's client
///   (``KernelRingClient``) with `response_headers` + `response_body` calls as the `aes_gcm` filter
///   sends them, `--window` streams in flight.
/// Prints one JSON object (MB/s are 10^6 plaintext bytes per second) for bench/crypto.py.
struct AESGCMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aesgcm", abstract: "AES-256-GCM MB/s: herz-aesgcm over the rings vs in-process swift-crypto (JSON on stdout).")

    @Option(help: "Seconds each measurement runs.") var duration: Double = 3
    @Option(help: "Seconds of warm-up before the ring measurement.") var warmup: Double = 0.5
    @Option(name: .customLong("chunk-bytes"), help: "Plaintext bytes per call and per sealed chunk.") var chunkBytes = 16 * 1024
    @Option(name: .customLong("message-chunks"), help: "Chunks per sealed message (then the stream ends and a new one starts).")
    var messageChunks = 64
    @Option(help: "Streams in flight on the ring.") var window = 16
    @Option(name: .customLong("server-cpu"), help: "Pin herz-aesgcm to this core with taskset.") var serverCPU: Int?
    @Option(help: "The herz-aesgcm executable (default: next to this one).") var aesgcm: String?

    func validate() throws {
        guard duration > 0, warmup >= 0, window >= 1, messageChunks >= 1 else { throw ValidationError("bad duration, warm-up, window or chunk count") }
        guard (1024...(1 << 20)).contains(chunkBytes) else { throw ValidationError("--chunk-bytes must be from 1024 to 1048576") }
    }

    func run() throws {
        var logger = Logger(label: "herz.crypto-bench")
        logger.logLevel = .warning
        let durationNanos = UInt64(duration * 1e9)
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let plaintext = (0..<chunkBytes).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }

        progress("in-process swift-crypto AES.GCM.seal")
        let reference = try Self.perCPUSecond { try Self.inProcessSwiftCrypto(key: key, chunk: plaintext, durationNanos: durationNanos) }
        progress("in-process StreamSealer")
        let sealer = try Self.perCPUSecond {
            try Self.inProcessSealer(key: key, chunk: plaintext, messageChunks: messageChunks, durationNanos: durationNanos)
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herz-crypto-bench.\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = "\(directory)/keys.json"
        let keyText = #"{"active": "bench", "keys": {"bench": "\#(Data(key).base64EncodedString())"}}"#
        FileManager.default.createFile(atPath: keys, contents: Data(keyText.utf8), attributes: [.posixPermissions: 0o600])
        let socket = "\(directory)/aesgcm.sock"
        progress("starting herz-aesgcm")
        let server = try ServerProcess(program: try aesgcm ?? ServerProcess.sibling("herz-aesgcm"),
                                       arguments: ["--listen", "unix:\(socket)", "--keys", keys, "--name", BenchCall.coprocessorName,
                                                   "--log-level", "warning"], cpu: serverCPU)
        defer { server.stop() }
        try server.waitUntil("herz-aesgcm listens") { FileManager.default.fileExists(atPath: socket) }
        let settings = AESGCMOperations(response: AESGCMMessageOperations(body: .encrypt), chunkSize: chunkBytes)
        let client = try KernelRingClient(name: BenchCall.coprocessorName, path: socket, server: server,
                                          probe: SealWorkload(settings: settings.settingsJSON, chunk: plaintext, messageChunks: 1), logger: logger)
        defer { client.stop() }
        progress("herz-aesgcm over the rings (\(window) streams)")
        let workload = SealWorkload(settings: settings.settingsJSON, chunk: plaintext, messageChunks: messageChunks)
        if warmup > 0 { _ = try client.run(workload, window: window, durationNanos: UInt64(warmup * 1e9), pacer: nil, timed: false) }
        let cpuBefore = server.cpuSeconds()
        let ring = try client.run(workload, window: window, durationNanos: durationNanos, pacer: nil, timed: false)
        let serverCPU = server.cpuSeconds() - cpuBefore
        // Of every message's calls (head, chunks, end) only the chunk calls carry plaintext.
        let bodyCalls = ring.calls * messageChunks / (messageChunks + 2)
        let ringMBps = Double(bodyCalls * chunkBytes) / (Double(ring.elapsedNanos) / 1e9) / 1e6
        let coprocessorCPU = serverCPU / (Double(ring.elapsedNanos) / 1e9)
        let ringPerCore = coprocessorCPU > 0 ? ringMBps / coprocessorCPU : 0
        let result: [String: Any] = [
            "chunk_bytes": chunkBytes, "window": window, "duration_s": duration,
            "swift_crypto_mb_s": reference.wall, "swift_crypto_mb_cpu_s": reference.perCPU,
            "stream_sealer_mb_s": sealer.wall, "stream_sealer_mb_cpu_s": sealer.perCPU,
            "ring_mb_s": ringMBps, "ring_mb_coprocessor_cpu_s": ringPerCore,
            "ring_failed_calls": ring.failures.values.reduce(0, +),
            "coprocessor_cpu_fraction": coprocessorCPU,
            "ratio_ring_vs_swift_crypto": ringMBps / reference.wall,
            "ratio_per_core": ringPerCore / reference.perCPU,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Runs an in-process measurement (MB per wall second) and also divides its MB by the CPU time
    /// this thread got meanwhile: on a shared machine the thread may not have had its core alone.
    static func perCPUSecond(_ measure: () throws -> Double) rethrows -> (wall: Double, perCPU: Double) {
        func threadCPU() -> Double {
            var spec = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
            return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
        }
        let cpuBefore = threadCPU()
        let wallBefore = MonotonicClock.nanos()
        let wall = try measure()
        let share = (threadCPU() - cpuBefore) / (Double(MonotonicClock.nanos() - wallBefore) / 1e9)
        return (wall, share > 0 ? wall / min(share, 1) : wall)
    }

    /// MB/s of `AES.GCM.seal` over `chunk`, a fresh random nonce per chunk as a sealer must use.
    static func inProcessSwiftCrypto(key: [UInt8], chunk: [UInt8], durationNanos: UInt64) throws -> Double {
        let symmetric = SymmetricKey(data: key)
        var sealed = 0
        let start = MonotonicClock.nanos()
        var now = start
        while now &- start < durationNanos {
            for _ in 0..<16 {
                let box = try AES.GCM.seal(chunk, using: symmetric, nonce: AES.GCM.Nonce())
                sealed += box.ciphertext.count
            }
            now = MonotonicClock.nanos()
        }
        return Double(sealed) / (Double(now &- start) / 1e9) / 1e6
    }

    /// MB/s of herz-aesgcm's ``StreamSealer``: messages of `messageChunks` chunks, sealed chunk by chunk.
    static func inProcessSealer(key: [UInt8], chunk: [UInt8], messageChunks: Int, durationNanos: UInt64) throws -> Double {
        guard let named = NamedKey(id: KeyID("bench")!, bytes: key) else { throw BenchError("bad key") }
        var sealed = 0
        let start = MonotonicClock.nanos()
        var now = start
        while now &- start < durationNanos {
            var message = StreamSealer(key: named, context: "body", chunkSize: chunk.count)
            for _ in 0..<messageChunks {
                _ = try message.seal(chunk, end: false)
                sealed += chunk.count
            }
            _ = try message.seal([], end: true)
            now = MonotonicClock.nanos()
        }
        return Double(sealed) / (Double(now &- start) / 1e9) / 1e6
    }

    private func progress(_ line: String) {
        FileHandle.standardError.write(Data("herz-coproc-bench aesgcm: \(line)\n".utf8))
    }
}

/// Response bodies sealed as the `aes_gcm` filter has herz-aesgcm seal them: per stream a
/// `response_headers` call (which starts the message), `messageChunks` `response_body` calls of
/// one chunk each, and one empty call with `endStream` (the final chunk); then the next stream.
/// Every answer is checked: a head `continue`, one sealed chunk per body call (the message header
/// in front of the first), a 16-byte final chunk.
struct SealWorkload: RingWorkload {
    let settings: String
    let chunk: ByteBuffer
    let messageChunks: Int
    /// Per window slot: the stream it is on, and the next call's index in the stream's script.
    private var streams: [UInt64: (id: UInt64, step: Int)] = [:]
    private var nextStreamID: UInt64 = 1

    var coprocessorName: String { BenchCall.coprocessorName }

    init(settings: String, chunk: [UInt8], messageChunks: Int) {
        self.settings = settings
        self.chunk = ByteBuffer(bytes: chunk)
        self.messageChunks = messageChunks
    }

    mutating func call(stream slot: UInt64) -> CoprocCall {
        var state = streams[slot] ?? (id: 0, step: 0)
        if state.step == 0 {
            state.id = nextStreamID
            nextStreamID += 1
        }
        let step = state.step
        state.step = step == messageChunks + 1 ? 0 : step + 1
        streams[slot] = state
        if step == 0 {
            return CoprocCall(callId: 0, streamId: state.id, deadlineNanos: 0, phase: .responseHeaders, endStream: false,
                              headers: [WireHeader(":status", "200")], route: "bench", filterConfig: settings)
        }
        let end = step == messageChunks + 1
        return CoprocCall(callId: 0, streamId: state.id, deadlineNanos: 0, phase: .responseBody, endStream: end,
                          body: end ? ByteBuffer() : chunk, route: "bench", filterConfig: settings)
    }

    /// The session that held the message's state is gone: the slot's next call starts a new message.
    mutating func failed(stream slot: UInt64) {
        streams[slot] = nil
    }

    func check(_ result: AnswerResult, stream slot: UInt64) throws {
        // `streams[slot].step` already points past the call being answered (one call per slot in flight).
        let answered = streams[slot].map { $0.step == 0 ? messageChunks + 1 : $0.step - 1 } ?? 0
        switch (answered, result) {
        case (0, .headers(.continue, _)):
            return
        case (let step, .data(.continue, let body?)) where step == messageChunks + 1 && body.readableBytes == 16:
            return
        case (let step, .data(.continue, let body?)) where step >= 1 && step <= messageChunks
                                                          && body.readableBytes >= chunk.readableBytes + 16:
            return
        default:
            throw BenchError("unexpected herz-aesgcm answer to call \(answered) of a message: \(String(describing: result).prefix(200))")
        }
    }
}
