import HerzCore
import HerzCoproc
import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCoprocFilter

/// A dispatcher whose answers the test decides: from `script`, synchronously inside `dispatch` when
/// `sync`, else when the test calls ``answer(_:)`` / ``flush()``. Records everything it is asked.
final class ScriptedDispatcher: CoprocCallDispatcher {
    var sync = false
    var script: [CoprocCallOutcome] = []
    private(set) var calls: [CoprocCall] = []
    private(set) var pending: [(ticket: CoprocCallTicket, completion: (CoprocCallOutcome) -> Void)] = []
    private(set) var cancelled: [CoprocCallTicket] = []
    private(set) var ended: [(coprocessor: String, streamId: UInt64, reset: Bool)] = []
    /// Completions of cancelled calls, kept so a test can (wrongly) run one and see it ignored.
    private(set) var cancelledCompletions: [(CoprocCallOutcome) -> Void] = []
    private var lastTicket: UInt64 = 0

    func dispatch(coprocessor: String, call: CoprocCall, completion: @escaping (CoprocCallOutcome) -> Void) -> CoprocCallTicket {
        self.lastTicket += 1
        var call = call
        call.callId = self.lastTicket
        self.calls.append(call)
        let ticket = CoprocCallTicket(rawValue: self.lastTicket)
        if self.sync, !self.script.isEmpty {
            completion(self.script.removeFirst())
        } else {
            self.pending.append((ticket, completion))
        }
        return ticket
    }

    func cancel(_ ticket: CoprocCallTicket) {
        self.cancelled.append(ticket)
        if let index = self.pending.firstIndex(where: { $0.ticket == ticket }) {
            self.cancelledCompletions.append(self.pending.remove(at: index).completion)
        }
    }

    func streamEnded(coprocessor: String, streamId: UInt64, reset: Bool) {
        self.ended.append((coprocessor, streamId, reset))
    }

    /// Answers the oldest outstanding call.
    func answer(_ outcome: CoprocCallOutcome) {
        guard !self.pending.isEmpty else { return XCTFail("no call outstanding") }
        self.pending.removeFirst().completion(outcome)
    }

    /// Answers outstanding calls from the script while both last.
    func flush() {
        while !self.pending.isEmpty, !self.script.isEmpty { self.answer(self.script.removeFirst()) }
    }

    var phases: [CallPhase] { self.calls.map(\.phase) }
}

final class StaticDispatcherProvider: CoprocDispatcherProvider, @unchecked Sendable {
    let dispatcher: CoprocCallDispatcher
    init(_ dispatcher: CoprocCallDispatcher) { self.dispatcher = dispatcher }
    func dispatcher(for streamInfo: StreamInfo) -> CoprocCallDispatcher { self.dispatcher }
}

/// Records the manager's actions as short strings (`fwd.head`, `fwd.data(ab,E)`, `resp.head(503)`…)
/// and keeps the heads and trailers that left the chain.
final class ActionRecorder: FilterManagerSink {
    var log: [String] = []
    var requestHead: HTTPRequestHead?
    var responseHead: HTTPResponseHead?
    var requestTrailers: HTTPHeaders?
    var requestBody = ""
    var responseBody = ""

    func filterManager(_ manager: FilterManager, perform action: FilterManagerAction) {
        func end(_ e: Bool) -> String { e ? ",E" : "" }
        switch action {
        case .forwardRequestHead(let head, let e): self.requestHead = head; self.log.append(e ? "fwd.head(E)" : "fwd.head")
        case .forwardRequestData(let d, let e): self.requestBody += String(buffer: d); self.log.append("fwd.data(\(String(buffer: d))\(end(e)))")
        case .forwardRequestTrailers(let t): self.requestTrailers = t; self.log.append("fwd.trailers")
        case .sendResponseHead(let head, let e): self.responseHead = head; self.log.append("resp.head(\(head.status.code)\(end(e)))")
        case .sendResponseData(let d, let e): self.responseBody += String(buffer: d); self.log.append("resp.data(\(String(buffer: d))\(end(e)))")
        case .sendResponseTrailers: self.log.append("resp.trailers")
        case .pauseReading: self.log.append("pause")
        case .resumeReading: self.log.append("resume")
        case .cancelUpstream: self.log.append("cancel")
        case .resetStream(let reason): self.log.append("reset(\(reason))")
        case .streamComplete: self.log.append("complete")
        }
    }
}

/// The real filter manager over one real ``CoprocHTTPFilter`` (coprocessor `jwt`), a scripted
/// dispatcher and a recorder. With `sync` the dispatcher answers inside `dispatch`; otherwise every
/// event is followed by answering what is outstanding from the script (an asynchronous answer).
final class CoprocHarness {
    let dispatcher = ScriptedDispatcher()
    let sink = ActionRecorder()
    let manager: FilterManager
    let streamInfo: StreamInfo
    var autoFlush = true

    init(phases: [CoprocFilterConfig.Phase], maxBodyBytes: Int = 1 << 20, sync: Bool = false,
         settings: String = "", route: RouteEntry? = nil, script: [CoprocCallOutcome] = []) {
        self.dispatcher.sync = sync
        self.dispatcher.script = script
        let info = StreamInfo(listenerName: "test", clientAddress: "127.0.0.1", scheme: "https", requestID: "r1",
                              route: route, streamID: 42)
        self.streamInfo = info
        let config = CoprocFilterConfig(coprocessor: "jwt", phases: phases, maxBodyBytes: maxBodyBytes, settingsJSON: settings)
        var registry = FilterFactoryRegistry()
        registry.registerCoproc(dispatchers: StaticDispatcherProvider(self.dispatcher))
        let factories = makeFilterFactories([.coproc(config)], registry: registry)
        let filters = factories.map { $0.makeFilter(streamInfo: info) }
        self.manager = FilterManager(filters: filters, streamInfo: info, bufferLimit: 1 << 20, sink: self.sink)
    }

    private func after() { if self.autoFlush { self.dispatcher.flush() } }

    func request(_ method: HTTPMethod = .POST, uri: String = "/upload", headers: HTTPHeaders = ["host": "api.example.com"],
                 end: Bool = false) {
        self.manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers), endStream: end)
        self.after()
    }

    func data(_ text: String, end: Bool = false) {
        self.manager.decodeData(ByteBuffer(string: text), endStream: end)
        self.after()
    }

    func trailers(_ trailers: HTTPHeaders = ["x-checksum": "1"]) {
        self.manager.decodeTrailers(trailers)
        self.after()
    }

    func response(_ code: Int = 200, headers: HTTPHeaders = [:], end: Bool = false) {
        self.manager.encodeHeaders(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers),
                                   endStream: end)
        self.after()
    }

    func responseData(_ text: String, end: Bool = false) {
        self.manager.encodeData(ByteBuffer(string: text), endStream: end)
        self.after()
    }

    func responseTrailers(_ trailers: HTTPHeaders = ["grpc-status": "0"]) {
        self.manager.encodeTrailers(trailers)
        self.after()
    }

    var log: [String] { self.sink.log }
}

// Answer shorthands.
func headers(_ status: RemoteHeadersStatus, set: [WireHeader] = [], remove: [String] = []) -> CoprocCallOutcome {
    .answered(.headers(status, HeaderMutation(set: set, remove: remove)))
}

func data(_ status: RemoteDataStatus, _ body: String? = nil) -> CoprocCallOutcome {
    .answered(.data(status, body: body.map { ByteBuffer(string: $0) }))
}

func trailers(_ status: RemoteTrailersStatus, set: [WireHeader] = []) -> CoprocCallOutcome {
    .answered(.trailers(status, HeaderMutation(set: set)))
}
