import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

/// ``PassThroughFilterChain`` must emit exactly what a `FilterManager` with no filters emits, for
/// every event sequence: each scenario runs through both and the action logs are compared.
final class PassThroughFilterChainTests: XCTestCase {
    enum Event {
        case dh(end: Bool, method: HTTPMethod = .GET), dd(String, end: Bool), dt
        case eh(UInt, end: Bool), ed(String, end: Bool), et
        case localReply(UInt, String), reset
    }

    private func viaManager(_ events: [Event]) -> [String] {
        let log = EventLog()
        let sink = RecordingSink(log: log)
        let manager = FilterManager(filters: [], streamInfo: StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "r"),
                                    bufferLimit: 1024, sink: sink)
        for event in events {
            switch event {
            case .dh(let end, let method): manager.decodeHeaders(Self.request(method), endStream: end)
            case .dd(let text, let end): manager.decodeData(ByteBuffer(string: text), endStream: end)
            case .dt: manager.decodeTrailers(HTTPHeaders([("t", "1")]))
            case .eh(let code, let end): manager.encodeHeaders(Self.response(code), endStream: end)
            case .ed(let text, let end): manager.encodeData(ByteBuffer(string: text), endStream: end)
            case .et: manager.encodeTrailers(HTTPHeaders([("t", "1")]))
            case .localReply(let code, let body): manager.sendLocalReply(status: .init(statusCode: Int(code)), body: body, headers: HTTPHeaders())
            case .reset: manager.resetStream(.peerReset)
            }
        }
        return sink.actions.map(Self.describeFully)
    }

    private func viaPassThrough(_ events: [Event]) -> [String] {
        var chain = PassThroughFilterChain()
        var actions: [FilterManagerAction] = []
        for event in events {
            let out: FilterChainActions
            switch event {
            case .dh(let end, let method): out = chain.decodeHeaders(Self.request(method), endStream: end)
            case .dd(let text, let end): out = chain.decodeData(ByteBuffer(string: text), endStream: end)
            case .dt: out = chain.decodeTrailers(HTTPHeaders([("t", "1")]))
            case .eh(let code, let end): out = chain.encodeHeaders(Self.response(code), endStream: end)
            case .ed(let text, let end): out = chain.encodeData(ByteBuffer(string: text), endStream: end)
            case .et: out = chain.encodeTrailers(HTTPHeaders([("t", "1")]))
            case .localReply(let code, let body): out = chain.sendLocalReply(status: .init(statusCode: Int(code)), body: body, headers: HTTPHeaders())
            case .reset: out = chain.resetStream(.peerReset)
            }
            actions.append(contentsOf: out)
        }
        return actions.map(Self.describeFully)
    }

    private static func request(_ method: HTTPMethod) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: "/")
    }

    private static func response(_ code: UInt) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: .init(statusCode: Int(code)))
    }

    /// `describe` plus the head's headers (local replies must carry the same ones).
    private static func describeFully(_ action: FilterManagerAction) -> String {
        if case .sendResponseHead(let head, _) = action {
            return describe(action) + " " + head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ";")
        }
        return describe(action)
    }

    func testSameActionsAsAnEmptyFilterManager() {
        let scenarios: [(String, [Event], [String])] = [
            ("bodyless exchange", [.dh(end: true), .eh(200, end: false), .ed("ok", end: true)],
             ["fwd.head(E)", "resp.head(200) ", "resp.data(ok,E)", "complete"]),
            ("streamed request, trailers both ways", [.dh(end: false), .dd("a", end: false), .dt, .eh(200, end: false), .ed("b", end: false), .et],
             ["fwd.head", "fwd.data(a)", "fwd.trailers", "resp.head(200) ", "resp.data(b)", "resp.trailers", "complete"]),
            ("response head ends the stream; later events ignored", [.dh(end: true), .eh(204, end: true), .ed("x", end: true), .reset, .localReply(500, "x")],
             ["fwd.head(E)", "resp.head(204,E) ", "complete"]),
            ("early response: request data after completion ignored", [.dh(end: false), .eh(200, end: true), .dd("late", end: true)],
             ["fwd.head", "resp.head(200,E) ", "complete"]),
            ("local reply before the response", [.dh(end: false), .localReply(404, "no route\n"), .dd("x", end: true), .eh(200, end: true)],
             ["fwd.head", "resp.head(404) content-type=text/plain;content-length=9", "resp.data(no route\n,E)", "complete"]),
            ("local reply to HEAD has no body", [.dh(end: true, method: .HEAD), .localReply(503, "down\n")],
             ["fwd.head(E)", "resp.head(503,E) content-type=text/plain;content-length=5", "complete"]),
            ("local reply after the response started resets", [.dh(end: true), .eh(200, end: false), .localReply(504, "late\n"), .ed("x", end: true)],
             ["fwd.head(E)", "resp.head(200) ", "reset(localReplyAfterResponseStarted)", "complete"]),
            ("reset mid-stream", [.dh(end: false), .dd("a", end: false), .reset, .dd("b", end: true), .reset],
             ["fwd.head", "fwd.data(a)", "complete"]),
            ("misuse ignored: data before head, second head, data after end",
             [.dd("x", end: false), .dh(end: true), .dh(end: false), .dd("y", end: true), .ed("z", end: true), .eh(200, end: true)],
             ["fwd.head(E)", "resp.head(200,E) ", "complete"]),
        ]
        for (name, events, expected) in scenarios {
            XCTAssertEqual(viaManager(events), expected, "FilterManager: \(name)")
            XCTAssertEqual(viaPassThrough(events), expected, "PassThroughFilterChain: \(name)")
        }
    }
}
