import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

/// `sendLocalReply` from every filter position and every phase. Chain `A, B, C` (indices 0, 1, 2;
/// encode order C, B, A). The replying filter returns `continue` to show that the reply wins anyway.
final class FilterManagerLocalReplyTests: XCTestCase {
    static let names = ["A", "B", "C"]

    func testLocalReplyDuringDecodeFromEveryPositionAndPhase() {
        let phases: [(Phase, forwardedBefore: [String])] = [
            (.decodeHeaders, []),
            (.decodeData, ["fwd.head"]),
            (.decodeTrailers, ["fwd.head", "fwd.data(a)"]),
        ]
        for i in 0..<3 {
            for (phase, forwarded) in phases {
                let h = Harness(Self.names)
                h.filters[i].once(phase) { _, cb, _ in
                    cb.sendLocalReply(status: .forbidden, body: "denied", headers: ["x-reason": "policy"])
                }
                h.request()
                h.data("a")
                h.trailers()
                h.response()  // ignored: the local reply replaced the response
                let label = "filter \(i), \(phase)"

                // The upstream is cancelled only if the request head already went to it.
                let cancel = forwarded.isEmpty ? [] : ["cancel"]
                XCTAssertEqual(h.log.sink, forwarded + cancel + ["resp.head(403)", "resp.data(denied,E)", "complete"], label)
                // Only the filters before i encode the reply, in reverse order.
                let encoders = h.log.entries.filter { $0.contains(".e") }
                let before = (0..<i).reversed().map { Self.names[$0] }
                let expected = before.map { "\($0).eh(403)" } + before.map { "\($0).ed(denied,E)" }
                XCTAssertEqual(encoders, expected, label)
                // No decode callback for anyone after the reply.
                let replyAt = h.log.entries.firstIndex { $0.hasPrefix("> resp.head") }!
                XCTAssertFalse(h.log.entries[replyAt...].contains { !$0.hasPrefix(">") && $0.contains(".d") && !$0.hasSuffix(".done") }, label)
                XCTAssertEqual(h.filters.map(\.completions), [1, 1, 1], label)
                XCTAssertEqual(h.violations, [], label)
            }
        }
    }

    func testLocalReplyDuringEncodeFromEveryPositionAndPhase() {
        for i in 0..<3 {
            for phase in [Phase.encodeHeaders, .encodeData, .encodeTrailers] {
                let h = Harness(Self.names)
                h.filters[i].once(phase) { _, cb, _ in cb.sendLocalReply(status: .forbidden, body: "denied") }
                h.request(end: true)
                h.response()
                h.responseData("r")
                h.responseTrailers()
                let label = "filter \(i), \(phase)"
                let expected: [String]
                switch phase {
                case .encodeHeaders:
                    // Nothing went downstream yet: the reply is sent directly, no encoder sees it.
                    expected = ["fwd.head(E)", "cancel", "resp.head(403)", "resp.data(denied,E)", "complete"]
                case .encodeData:
                    expected = ["fwd.head(E)", "resp.head(200)", "cancel", "reset(localReplyAfterResponseStarted)", "complete"]
                default:
                    // The upstream response already ended: nothing to cancel.
                    expected = ["fwd.head(E)", "resp.head(200)", "resp.data(r)", "reset(localReplyAfterResponseStarted)", "complete"]
                }
                XCTAssertEqual(h.log.sink, expected, label)
                XCTAssertFalse(h.log.entries.contains { $0.contains("(403") && !$0.hasPrefix(">") }, label)
                XCTAssertEqual(h.filters.map(\.completions), [1, 1, 1], label)
                XCTAssertEqual(h.violations, [], label)
            }
        }
    }

    func testAsyncLocalReplyFromEveryPosition() {
        for i in 0..<3 {
            // Decode side: the filter stopped on the request headers (awaiting, say, a coprocessor).
            let h = Harness(Self.names)
            h.filters[i].dh = [.stopIteration]
            h.request(end: true)
            h.filters[i].callbacks.sendLocalReply(status: .unauthorized, body: "no")
            XCTAssertEqual(h.log.sink, ["resp.head(401)", "resp.data(no,E)", "complete"], "decode \(i)")
            XCTAssertEqual(h.log.entries.filter { $0.contains(".eh") },
                           (0..<i).reversed().map { "\(Self.names[$0]).eh(401)" }, "decode \(i)")

            // Encode side: the filter stopped on the response headers; the reply goes out directly.
            let g = Harness(Self.names)
            g.filters[i].eh = [.stopIteration]
            g.request(end: true)
            g.response()
            g.filters[i].callbacks.sendLocalReply(status: .badGateway, body: "bad")
            XCTAssertEqual(g.log.sink, ["fwd.head(E)", "cancel", "resp.head(502)", "resp.data(bad,E)", "complete"], "encode \(i)")
            g.filters[i].callbacks.continueEncoding()  // after completion: ignored
            XCTAssertEqual(g.log.sink.last, "complete")
            XCTAssertEqual(g.violations, [])
        }
    }

    func testTerminalLocalReplyRunsEveryEncoderAndResetsOnceResponseStarted() {
        let h = Harness(Self.names)
        h.request(end: true)
        h.manager.sendLocalReply(status: .notFound, body: "no route", headers: [:])
        XCTAssertEqual(h.log.sink, ["fwd.head(E)", "resp.head(404)", "resp.data(no route,E)", "complete"])
        XCTAssertEqual(h.log.entries.filter { $0.contains(".eh") }, ["C.eh(404)", "B.eh(404)", "A.eh(404)"])
        guard case .sendResponseHead(let head, false) = h.sink.actions[1] else { return XCTFail() }
        XCTAssertEqual(head.headers["content-type"], ["text/plain"])
        XCTAssertEqual(head.headers["content-length"], ["8"])

        let g = Harness(Self.names)
        g.request(end: true)
        g.response()
        g.manager.sendLocalReply(status: .gatewayTimeout, body: "timeout", headers: [:])
        XCTAssertEqual(g.log.sink, ["fwd.head(E)", "resp.head(200)", "reset(localReplyAfterResponseStarted)", "complete"])
    }

    func testLocalReplyHeadersAndEmptyBody() {
        let h = Harness(["A"])
        h["A"].once(.decodeHeaders) { _, cb, _ in
            cb.sendLocalReply(status: .tooManyRequests, body: "", headers: ["retry-after": "3", "content-type": "application/json"])
        }
        h.request(end: true)
        XCTAssertEqual(h.log.sink, ["resp.head(429,E)", "complete"])
        guard case .sendResponseHead(let head, true) = h.sink.actions[0] else { return XCTFail() }
        XCTAssertEqual(head.headers["content-type"], ["application/json"])
        XCTAssertEqual(head.headers["content-length"], ["0"])
        XCTAssertEqual(head.headers["retry-after"], ["3"])
    }

    /// A filter encoding a local reply may itself reply locally: the response has not gone out yet,
    /// so its reply is sent directly.
    func testLocalReplyWhileEncodingALocalReply() {
        let h = Harness(Self.names)
        h["C"].once(.decodeHeaders) { _, cb, _ in cb.sendLocalReply(status: .forbidden, body: "first") }
        h["A"].once(.encodeHeaders) { _, cb, _ in cb.sendLocalReply(status: .internalServerError, body: "second") }
        h.request(end: true)
        XCTAssertEqual(h.log.sink, ["resp.head(500)", "resp.data(second,E)", "complete"])
        XCTAssertEqual(h.violations, [])
    }
}
