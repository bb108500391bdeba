import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

/// One ordered log shared by the test filters and the sink, so interleavings can be asserted.
final class EventLog {
    var entries: [String] = []
    /// The filter whose callback is running, if any (the sink must never be called then).
    var running: String?

    func add(_ entry: String) { self.entries.append(entry) }

    /// What `who` saw (its entries without the prefix), with `~` where the test resumed something.
    func view(_ who: String) -> [String] {
        self.entries.compactMap { entry in
            if entry == "~" { return entry }
            guard entry.hasPrefix(who + ".") else { return nil }
            return String(entry.dropFirst(who.count + 1))
        }
    }

    /// The sink's actions, with `~` markers.
    var sink: [String] {
        self.entries.compactMap { entry in
            if entry == "~" { return entry }
            return entry.hasPrefix("> ") ? String(entry.dropFirst(2)) : nil
        }
    }
}

final class RecordingSink: FilterManagerSink {
    let log: EventLog
    var actions: [FilterManagerAction] = []
    var onAction: ((FilterManagerAction, FilterManager) -> Void)?

    init(log: EventLog) { self.log = log }

    func filterManager(_ manager: FilterManager, perform action: FilterManagerAction) {
        if let running = self.log.running { self.log.add("!sink called while \(running) runs") }
        self.actions.append(action)
        self.log.add("> " + describe(action))
        self.onAction?(action, manager)
    }
}

func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }
func buf(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

func describe(_ action: FilterManagerAction) -> String {
    func end(_ e: Bool) -> String { e ? ",E" : "" }
    switch action {
    case .forwardRequestHead(_, let e): return e ? "fwd.head(E)" : "fwd.head"
    case .forwardRequestData(let d, let e): return "fwd.data(\(text(d))\(end(e)))"
    case .forwardRequestTrailers: return "fwd.trailers"
    case .sendResponseHead(let h, let e): return "resp.head(\(h.status.code)\(end(e)))"
    case .sendResponseData(let d, let e): return "resp.data(\(text(d))\(end(e)))"
    case .sendResponseTrailers: return "resp.trailers"
    case .pauseReading(let p): return "pause(\(p == .downstream ? "down" : "up"))"
    case .resumeReading(let p): return "resume(\(p == .downstream ? "down" : "up"))"
    case .cancelUpstream: return "cancel"
    case .resetStream(let r): return "reset(\(r))"
    case .streamComplete: return "complete"
    }
}

enum Phase: Hashable {
    case decodeHeaders, decodeData, decodeTrailers, encodeHeaders, encodeData, encodeTrailers
}

/// A filter whose statuses are scripted per call and which records everything it sees as
/// `name.dh(E)`, `name.dd(bytes,E)`, `name.dt`, `name.eh(200,E)`, `name.ed(bytes,E)`, `name.et`,
/// `name.done`. Hooks run inside the callback (so their callback calls are "during a callback").
final class ScriptFilter: HTTPFilter {
    typealias Hook = (ScriptFilter, FilterCallbacks, inout ByteBuffer?) -> Void

    let name: String
    let log: EventLog
    var callbacks: FilterCallbacks!
    var completions = 0

    /// Statuses consumed one per call; when a script runs out, the default applies.
    var dh: [FilterHeadersStatus] = [], dhDefault: FilterHeadersStatus = .continue
    var dd: [FilterDataStatus] = [], ddDefault: FilterDataStatus = .continue
    var dt: [FilterTrailersStatus] = [], dtDefault: FilterTrailersStatus = .continue
    var eh: [FilterHeadersStatus] = [], ehDefault: FilterHeadersStatus = .continue
    var ed: [FilterDataStatus] = [], edDefault: FilterDataStatus = .continue
    var et: [FilterTrailersStatus] = [], etDefault: FilterTrailersStatus = .continue
    var hooks: [Phase: Hook] = [:]
    var onComplete: ((ScriptFilter) -> Void)?

    init(_ name: String, log: EventLog) {
        self.name = name
        self.log = log
    }

    /// Runs `hook` on the next call of `phase` only.
    func once(_ phase: Phase, _ hook: @escaping Hook) {
        self.hooks[phase] = { filter, callbacks, data in
            filter.hooks[phase] = nil
            hook(filter, callbacks, &data)
        }
    }

    private func enter(_ entry: String, _ callbacks: FilterCallbacks) {
        if self.completions > 0 { self.log.add("!\(self.name) called after completion") }
        self.callbacks = callbacks
        self.log.add("\(self.name).\(entry)")
        self.log.running = self.name
    }

    private func run(_ phase: Phase, _ callbacks: FilterCallbacks, _ data: inout ByteBuffer?) {
        if let hook = self.hooks[phase] { hook(self, callbacks, &data) }
        self.log.running = nil
    }

    private func run(_ phase: Phase, _ callbacks: FilterCallbacks) {
        var none: ByteBuffer?
        self.run(phase, callbacks, &none)
    }

    private func next<S>(_ script: inout [S], _ fallback: S) -> S {
        script.isEmpty ? fallback : script.removeFirst()
    }

    func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        self.enter(endStream ? "dh(E)" : "dh", callbacks)
        self.run(.decodeHeaders, callbacks)
        return self.next(&self.dh, self.dhDefault)
    }

    func decodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus {
        self.enter("dd(\(text(data))\(endStream ? ",E" : ""))", callbacks)
        var chunk: ByteBuffer? = data
        self.run(.decodeData, callbacks, &chunk)
        data = chunk ?? ByteBuffer()
        return self.next(&self.dd, self.ddDefault)
    }

    func decodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus {
        self.enter("dt", callbacks)
        self.run(.decodeTrailers, callbacks)
        return self.next(&self.dt, self.dtDefault)
    }

    func encodeHeaders(_ head: inout HTTPResponseHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        self.enter("eh(\(head.status.code)\(endStream ? ",E" : ""))", callbacks)
        self.run(.encodeHeaders, callbacks)
        return self.next(&self.eh, self.ehDefault)
    }

    func encodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus {
        self.enter("ed(\(text(data))\(endStream ? ",E" : ""))", callbacks)
        var chunk: ByteBuffer? = data
        self.run(.encodeData, callbacks, &chunk)
        data = chunk ?? ByteBuffer()
        return self.next(&self.ed, self.edDefault)
    }

    func encodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus {
        self.enter("et", callbacks)
        self.run(.encodeTrailers, callbacks)
        return self.next(&self.et, self.etDefault)
    }

    func onStreamComplete() {
        self.completions += 1
        self.log.add("\(self.name).done")
        self.onComplete?(self)
    }
}

/// A manager over named script filters, a recording sink and one shared log.
final class Harness {
    let log = EventLog()
    let sink: RecordingSink
    let filters: [ScriptFilter]
    let manager: FilterManager

    init(_ names: [String], bufferLimit: Int = 1 << 20) {
        let log = self.log
        self.sink = RecordingSink(log: log)
        self.filters = names.map { ScriptFilter($0, log: log) }
        let info = StreamInfo(listenerName: "test", clientAddress: "127.0.0.1", scheme: "http", requestID: "r1")
        self.manager = FilterManager(filters: self.filters, streamInfo: info, bufferLimit: bufferLimit, sink: self.sink)
    }

    subscript(name: String) -> ScriptFilter { self.filters.first { $0.name == name }! }

    static let requestHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/upload")
    static func responseHead(_ code: Int = 200) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code))
    }

    func request(end: Bool = false) { self.manager.decodeHeaders(Self.requestHead, endStream: end) }
    func data(_ s: String, end: Bool = false) { self.manager.decodeData(buf(s), endStream: end) }
    func trailers() { self.manager.decodeTrailers(["x-checksum": "1"]) }
    func response(_ code: Int = 200, end: Bool = false) { self.manager.encodeHeaders(Self.responseHead(code), endStream: end) }
    func responseData(_ s: String, end: Bool = false) { self.manager.encodeData(buf(s), endStream: end) }
    func responseTrailers() { self.manager.encodeTrailers(["grpc-status": "0"]) }

    /// Asynchronous resumption (outside any callback), marked `~` in the log.
    func continueDecoding(_ name: String) {
        self.log.add("~")
        self[name].callbacks.continueDecoding()
    }

    func continueEncoding(_ name: String) {
        self.log.add("~")
        self[name].callbacks.continueEncoding()
    }

    /// Log entries that signal a broken guarantee.
    var violations: [String] { self.log.entries.filter { $0.hasPrefix("!") } }
}
