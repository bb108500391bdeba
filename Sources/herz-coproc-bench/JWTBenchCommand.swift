import ArgumentParser
import Foundation
import HerzCoproc
import HerzCore
import Logging

/// `herz-coproc-bench jwt`: verifications per second of the herz-jwt coprocessor alone — the real
/// process, reached by the kernel's client (``KernelRingClient``) with the `request_headers` calls
/// the `jwt_authn` filter makes (its settings JSON rendered by HerzCore from a one-provider
/// config), `--window` calls in flight, every answer checked to be `continue` (the token verified).
/// Reports the coprocessor's CPU use over the run, so the rate per fully used core can be put next
/// to `openssl speed` (bench/crypto.py). Prints one JSON object.
struct JWTBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwt", abstract: "JWT verifications/s of herz-jwt over the rings (JSON on stdout).")

    @Option(help: "Seconds the measurement runs.") var duration: Double = 3
    @Option(help: "Seconds of warm-up first.") var warmup: Double = 0.5
    @Option(help: "A token that verifies with the JWKS file (iss and aud `bench`).") var token: String
    @Option(name: .customLong("jwks-root"), help: "herz-jwt's --jwks-root.") var jwksRoot: String
    @Option(help: "The JWKS file name inside --jwks-root.") var jwks: String
    @Option(help: "Calls in flight.") var window = 16
    @Option(name: .customLong("server-cpu"), help: "Pin herz-jwt to this core with taskset.") var serverCPU: Int?
    @Option(help: "The herz-jwt executable (default: next to this one).") var jwt: String?

    func run() throws {
        var logger = Logger(label: "herz.crypto-bench")
        logger.logLevel = .warning
        let socket = "\(jwksRoot)/bench-jwt.\(getpid()).sock"
        let server = try ServerProcess(program: try jwt ?? ServerProcess.sibling("herz-jwt"),
                                       arguments: ["--listen", "unix:\(socket)", "--name", BenchCall.coprocessorName, "--jwks-root", jwksRoot,
                                                   "--log-level", "warning"], cpu: serverCPU)
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: socket)
        }
        try server.waitUntil("herz-jwt listens") { FileManager.default.fileExists(atPath: socket) }
        let config = JWTAuthnConfig(coprocessor: BenchCall.coprocessorName,
                                    providers: [JWTProvider(name: "bench", issuer: "bench", audiences: ["bench"], jwksFile: jwks)])
        let workload = VerifyWorkload(settings: config.settingsJSON(for: JWTRequirement(providers: ["bench"])), token: token)
        let client = try KernelRingClient(name: BenchCall.coprocessorName, path: socket, server: server, probe: workload, logger: logger)
        defer { client.stop() }
        if warmup > 0 { _ = try client.run(workload, window: window, durationNanos: UInt64(warmup * 1e9), pacer: nil, timed: false) }
        let cpuBefore = server.cpuSeconds()
        let run = try client.run(workload, window: window, durationNanos: UInt64(duration * 1e9), pacer: nil, timed: false)
        let cpu = (server.cpuSeconds() - cpuBefore) / (Double(run.elapsedNanos) / 1e9)
        let result: [String: Any] = [
            "verifications_s": run.callsPerSecond, "coprocessor_cpu_fraction": cpu,
            "verifications_s_per_core": cpu > 0 ? run.callsPerSecond / cpu : 0,
            "failed_calls": run.failures.values.reduce(0, +), "window": window, "duration_s": duration,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// One `request_headers` call per verification, as `jwt_authn` sends it for a request carrying
/// `Authorization: Bearer TOKEN`; the answer must be `continue` (a 401/403 would be a local reply).
struct VerifyWorkload: RingWorkload {
    let call: CoprocCall

    var coprocessorName: String { BenchCall.coprocessorName }

    init(settings: String, token: String) {
        call = CoprocCall(callId: 0, streamId: 0, deadlineNanos: 0, phase: .requestHeaders, endStream: true,
                          headers: [WireHeader(":method", "GET"), WireHeader(":scheme", "http"), WireHeader(":authority", "bench"),
                                    WireHeader(":path", "/api"), WireHeader("authorization", "Bearer \(token)")],
                          route: "bench", filterConfig: settings)
    }

    mutating func call(stream: UInt64) -> CoprocCall {
        var next = call
        next.streamId = stream
        return next
    }

    func check(_ result: AnswerResult, stream: UInt64) throws {
        guard case .headers(.continue, _) = result else {
            throw BenchError("the token did not verify: \(String(describing: result).prefix(300))")
        }
    }
}
