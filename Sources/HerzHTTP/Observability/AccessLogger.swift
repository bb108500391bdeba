import Foundation
import HerzCore
import NIOCore

/// Writes one line per finished request, as JSON or in Envoy's default text format.
///
/// Lines are formatted on the worker and appended to a per-worker buffer that is written out when
/// it passes 32 KiB or every 100 ms, so the hot path never makes a syscall per request.
final class AccessLogger: @unchecked Sendable {  // only used on its worker's event loop
    private let format: AccessLogConfig.Format
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var flushTask: RepeatedTask?

    init?(config: AccessLogConfig, eventLoop: EventLoop) {
        self.format = config.format
        switch config.path {
        case "stdout": handle = FileHandle.standardOutput
        case "stderr": handle = FileHandle.standardError
        default:
            if !FileManager.default.fileExists(atPath: config.path) {
                FileManager.default.createFile(atPath: config.path, contents: nil)
            }
            guard let h = FileHandle(forWritingAtPath: config.path) else { return nil }
            h.seekToEndOfFile()
            handle = h
        }
        buffer.reserveCapacity(40 * 1024)
        flushTask = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [weak self] _ in
            self?.flush()
        }
    }

    func log(stream: ProxyStream, reset: Bool) {
        let head = stream.requestHead
        let durationMS = Double((NIODeadline.now() - stream.startTime).nanoseconds) / 1e6
        let code = reset ? 0 : Int(stream.responseStatus?.code ?? 0)
        let line: String
        switch format {
        case .json:
            line = "{\"time\":\"\(Date())\",\"request_id\":\(json(stream.streamInfo.requestID)),\"client\":\(json(stream.streamInfo.clientAddress ?? "-")),"
                + "\"method\":\(json(head?.method.rawValue ?? "-")),\"path\":\(json(head?.uri ?? "-")),\"protocol\":\"HTTP/\(head?.version.major ?? 1).\(head?.version.minor ?? 1)\","
                + "\"authority\":\(json(head?.headers.first(name: "host") ?? "-")),\"status\":\(code),\"bytes_sent\":\(stream.responseBytes),"
                + "\"duration_ms\":\(String(format: "%.3f", durationMS)),\"route\":\(json(stream.routeName)),\"cluster\":\(json(stream.clusterName ?? "-")),"
                + "\"attempts\":\(stream.attempts),\"failure\":\(json(stream.failureReason ?? "-"))}\n"
        case .envoy:
            line = "[\(Date())] \"\(head?.method.rawValue ?? "-") \(head?.uri ?? "-") HTTP/\(head?.version.major ?? 1).\(head?.version.minor ?? 1)\" \(code) "
                + "\(stream.failureReason == nil ? "-" : "UF") 0 \(stream.responseBytes) \(Int(durationMS)) \"\(stream.streamInfo.clientAddress ?? "-")\" "
                + "\"\(head?.headers.first(name: "user-agent") ?? "-")\" \"\(stream.streamInfo.requestID)\" \"\(head?.headers.first(name: "host") ?? "-")\" \"\(stream.clusterName ?? "-")\"\n"
        }
        buffer.append(contentsOf: line.utf8)
        if buffer.count > 32 * 1024 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    private func json(_ s: String) -> String { JSONText.quoted(s) }
}
