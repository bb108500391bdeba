import HerzCore
import HerzCoproc
import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCoprocFilter

/// Every row of docs/coprocessor-protocol.md section 4, through the real filter manager, each run
/// twice: answers delivered synchronously inside `dispatch` and asynchronously after the event.
final class CoprocAnswerTableTests: XCTestCase {
    struct Row {
        var name: String
        var phases: [CoprocFilterConfig.Phase]
        var script: [CoprocCallOutcome]
        var drive: (CoprocHarness) -> Void
        var expected: [String]
        var calls: [CallPhase]
        var check: (CoprocHarness) -> Void = { _ in }
    }

    static let request: [CoprocFilterConfig.Phase] = [.requestHeaders]
    static let requestAndBody: [CoprocFilterConfig.Phase] = [.requestHeaders, .requestBody]

    static let rows: [Row] = [
        Row(name: "headers continue applies the mutation, never to pseudo-headers",
            phases: request,
            script: [headers(.continue, set: [WireHeader("x-user", "alice"), WireHeader(":path", "/evil")], remove: ["x-drop"])],
            drive: { $0.request(headers: ["host": "h", "x-drop": "1"], end: true) },
            expected: ["fwd.head(E)"], calls: [.requestHeaders],
            check: { h in
                XCTAssertEqual(h.sink.requestHead?.headers.first(name: "x-user"), "alice")
                XCTAssertFalse(h.sink.requestHead?.headers.contains(name: "x-drop") ?? true)
                XCTAssertEqual(h.sink.requestHead?.uri, "/upload")
            }),
        Row(name: "headers stopIteration holds headers; body goes to the coprocessor; first data continue releases",
            phases: request,
            script: [headers(.stopIteration, set: [WireHeader("x-a", "1")]), data(.stopIterationAndBuffer), data(.continue)],
            drive: { h in h.request(); h.data("ab"); h.data("cd"); h.data("ef", end: true) },
            expected: ["fwd.head", "fwd.data(abcd)", "fwd.data(ef,E)"], calls: [.requestHeaders, .requestBody, .requestBody],
            check: { h in
                XCTAssertEqual(h.sink.requestHead?.headers.first(name: "x-a"), "1")
                XCTAssertEqual(String(buffer: h.dispatcher.calls[2].body), "abcd", "kept chunk is prepended to the next call")
                XCTAssertFalse(h.sink.requestHead?.headers.contains(name: "content-length") ?? true)
            }),
        Row(name: "headers continueAndDontEndStream: the next data answer's body ends the message",
            phases: request,
            script: [headers(.continueAndDontEndStream), data(.continue, "hello")],
            drive: { $0.request(.GET, end: true) },
            expected: ["fwd.head", "fwd.data(hello,E)"], calls: [.requestHeaders, .requestBody],
            check: { h in
                XCTAssertTrue(h.dispatcher.calls[1].endStream)
                XCTAssertEqual(h.dispatcher.calls[1].body.readableBytes, 0)
                XCTAssertEqual(h.sink.requestHead?.headers.first(name: "content-length"), "5")
            }),
        Row(name: "headers continueAndDontEndStream on a head with body behaves as continue",
            phases: request, script: [headers(.continueAndDontEndStream)],
            drive: { h in h.request(); h.data("ab", end: true) },
            expected: ["fwd.head", "fwd.data(ab,E)"], calls: [.requestHeaders]),
        Row(name: "headers stopAllIterationAndBuffer collects the whole body into one call",
            phases: request,
            script: [headers(.stopAllIterationAndBuffer), data(.continue, "XYZ")],
            drive: { h in h.request(headers: ["host": "h", "content-length": "4"]); h.data("ab"); h.data("cd", end: true) },
            expected: ["fwd.head", "fwd.data(XYZ,E)"], calls: [.requestHeaders, .requestBody],
            check: { h in
                XCTAssertEqual(String(buffer: h.dispatcher.calls[1].body), "abcd")
                XCTAssertTrue(h.dispatcher.calls[1].endStream)
                XCTAssertEqual(h.sink.requestHead?.headers.first(name: "content-length"), "3")
            }),
        Row(name: "headers stopAllIterationAndWatermark collects the whole body too",
            phases: request,
            script: [headers(.stopAllIterationAndWatermark), data(.continue)],
            drive: { h in h.request(); h.data("ab"); h.data("cd", end: true) },
            expected: ["fwd.head", "fwd.data(abcd,E)"], calls: [.requestHeaders, .requestBody]),
        Row(name: "stopAll with trailers: the collected body call ends the body, then the trailers call",
            phases: [.requestHeaders, .requestTrailers],
            script: [headers(.stopAllIterationAndBuffer), data(.continue), trailers(.continue, set: [WireHeader("x-t", "1")])],
            drive: { h in h.request(); h.data("ab"); h.trailers() },
            expected: ["fwd.head", "fwd.data(ab)", "fwd.trailers"], calls: [.requestHeaders, .requestBody, .requestTrailers],
            check: { h in
                XCTAssertTrue(h.dispatcher.calls[1].endStream, "the body is complete when the trailers arrive")
                XCTAssertEqual(h.sink.requestTrailers?.first(name: "x-t"), "1")
            }),
        Row(name: "data continue passes the chunk, replaced when replaceBody",
            phases: requestAndBody,
            script: [headers(.continue), data(.continue, "AB"), data(.continue)],
            drive: { h in h.request(headers: ["host": "h", "content-length": "4"]); h.data("ab"); h.data("cd", end: true) },
            expected: ["fwd.head", "fwd.data(AB)", "fwd.data(cd,E)"], calls: [.requestHeaders, .requestBody, .requestBody],
            check: { h in XCTAssertFalse(h.sink.requestHead?.headers.contains(name: "content-length") ?? true) }),
        Row(name: "data stopIterationNoBuffer passes nothing; a later answer returns the bytes",
            phases: requestAndBody,
            script: [headers(.continue), data(.stopIterationNoBuffer), data(.continue, "abcd!")],
            drive: { h in h.request(); h.data("ab"); h.data("cd", end: true) },
            expected: ["fwd.head", "fwd.data(abcd!,E)"], calls: [.requestHeaders, .requestBody, .requestBody]),
        Row(name: "data stopIterationAndBuffer keeps the chunk for the next call",
            phases: requestAndBody,
            script: [headers(.continue), data(.stopIterationAndBuffer), data(.continue)],
            drive: { h in h.request(); h.data("ab"); h.data("cd", end: true) },
            expected: ["fwd.head", "fwd.data(abcd,E)"], calls: [.requestHeaders, .requestBody, .requestBody],
            check: { h in XCTAssertEqual(String(buffer: h.dispatcher.calls[2].body), "abcd") }),
        Row(name: "data stopIterationAndWatermark keeps the chunk for the next call",
            phases: [.requestBody],
            script: [data(.stopIterationAndWatermark), data(.continue)],
            drive: { h in h.request(); h.data("ab"); h.data("cd", end: true) },
            expected: ["fwd.head", "fwd.data(abcd,E)"], calls: [.requestBody, .requestBody]),
        Row(name: "body phase and trailers: an empty end-of-body call releases what the coprocessor kept, not ending the message",
            phases: requestAndBody,
            script: [headers(.continue), data(.stopIterationNoBuffer), data(.continue, "AB!")],
            drive: { h in h.request(); h.data("ab"); h.trailers() },
            expected: ["fwd.head", "fwd.data(AB!)", "fwd.trailers"], calls: [.requestHeaders, .requestBody, .requestBody],
            check: { h in
                XCTAssertFalse(h.dispatcher.calls[1].endStream)
                XCTAssertTrue(h.dispatcher.calls[2].endStream, "the coprocessor learns that the body ended")
                XCTAssertEqual(h.dispatcher.calls[2].body.readableBytes, 0)
                XCTAssertEqual(h.sink.requestTrailers?.first(name: "x-checksum"), "1")
            }),
        Row(name: "body phase and trailers: bytes kept by stopIterationAndBuffer ride on the end-of-body call",
            phases: [.requestBody, .requestTrailers],
            script: [data(.stopIterationAndBuffer), data(.continue), trailers(.continue)],
            drive: { h in h.request(); h.data("ab"); h.trailers() },
            expected: ["fwd.head", "fwd.data(ab)", "fwd.trailers"], calls: [.requestBody, .requestBody, .requestTrailers],
            check: { h in
                XCTAssertEqual(String(buffer: h.dispatcher.calls[1].body), "ab")
                XCTAssertTrue(h.dispatcher.calls[1].endStream)
            }),
        Row(name: "body phase, head then trailers without data: the coprocessor still sees the body end",
            phases: requestAndBody,
            script: [headers(.continue), data(.continue, "E")],
            drive: { h in h.request(); h.trailers() },
            expected: ["fwd.head", "fwd.data(E)", "fwd.trailers"], calls: [.requestHeaders, .requestBody],
            check: { h in XCTAssertTrue(h.dispatcher.calls[1].endStream) }),
        Row(name: "response body and trailers: the end-of-body answer leaves before the trailers",
            phases: [.responseHeaders, .responseBody],
            script: [headers(.continue), data(.stopIterationNoBuffer), data(.continue, "SEALED")],
            drive: { h in h.request(.GET, end: true); h.response(); h.responseData("ok"); h.responseTrailers() },
            expected: ["fwd.head(E)", "resp.head(200)", "resp.data(SEALED)", "resp.trailers", "complete"],
            calls: [.responseHeaders, .responseBody, .responseBody],
            check: { h in XCTAssertTrue(h.dispatcher.calls[2].endStream) }),
        Row(name: "trailers continue applies the mutation",
            phases: [.requestTrailers],
            script: [trailers(.continue, set: [WireHeader("x-t", "1")])],
            drive: { h in h.request(); h.data("ab"); h.trailers() },
            expected: ["fwd.head", "fwd.data(ab)", "fwd.trailers"], calls: [.requestTrailers],
            check: { h in XCTAssertEqual(h.sink.requestTrailers?.first(name: "x-t"), "1") }),
        Row(name: "trailers stopIteration applies the mutation and continues",
            phases: [.requestTrailers],
            script: [trailers(.stopIteration, set: [WireHeader("x-t", "2")])],
            drive: { h in h.request(); h.trailers() },
            expected: ["fwd.head", "fwd.trailers"], calls: [.requestTrailers],
            check: { h in XCTAssertEqual(h.sink.requestTrailers?.first(name: "x-t"), "2") }),
        Row(name: "localReply ends the stream with the coprocessor's reply",
            phases: request,
            script: [.answered(.localReply(CoprocLocalReply(status: 401, headers: [WireHeader("www-authenticate", "Bearer")],
                                                            body: ByteBuffer(string: "nope"), reason: "no token")))],
            drive: { $0.request(end: true) },
            expected: ["resp.head(401)", "resp.data(nope,E)", "complete"], calls: [.requestHeaders],
            check: { h in
                XCTAssertEqual(h.sink.responseHead?.headers.first(name: "www-authenticate"), "Bearer")
                XCTAssertEqual(h.dispatcher.ended.map(\.reset), [false])
            }),
        Row(name: "failure answer slipping through the dispatcher fails closed with its kind",
            phases: request, script: [.answered(.failure(.overloaded, message: "busy"))],
            drive: { $0.request(end: true) },
            expected: ["resp.head(503)", "resp.data(coprocessor jwt unavailable (overloaded),E)", "complete"], calls: [.requestHeaders]),
        Row(name: "answer of the wrong kind for its phase is a protocol failure",
            phases: request, script: [data(.continue)],
            drive: { $0.request(end: true) },
            expected: ["resp.head(503)", "resp.data(coprocessor jwt unavailable (protocol),E)", "complete"], calls: [.requestHeaders]),
        Row(name: "response phases: headers mutation and body replacement",
            phases: [.responseHeaders, .responseBody],
            script: [headers(.continue, set: [WireHeader("x-r", "1")]), data(.continue, "HELLO")],
            drive: { h in h.request(.GET, end: true); h.response(headers: ["content-length": "5"]); h.responseData("hello", end: true) },
            expected: ["fwd.head(E)", "resp.head(200)", "resp.data(HELLO,E)", "complete"], calls: [.responseHeaders, .responseBody],
            check: { h in
                XCTAssertEqual(h.sink.responseHead?.headers.first(name: "x-r"), "1")
                XCTAssertFalse(h.sink.responseHead?.headers.contains(name: "content-length") ?? true)
                XCTAssertEqual(h.dispatcher.calls[0].headers.first?.name, ":status")
                XCTAssertEqual(h.dispatcher.ended.map(\.reset), [false])
            }),
    ]

    func testEveryRowSynchronouslyAndAsynchronously() {
        for sync in [false, true] {
            for row in Self.rows {
                let h = CoprocHarness(phases: row.phases, sync: sync, script: row.script)
                row.drive(h)
                let mode = sync ? "sync" : "async"
                XCTAssertEqual(h.log, row.expected, "\(row.name) [\(mode)]")
                XCTAssertEqual(h.dispatcher.phases, row.calls, "\(row.name) [\(mode)]")
                XCTAssertTrue(h.dispatcher.script.isEmpty, "\(row.name) [\(mode)]: unused answers")
                XCTAssertTrue(h.dispatcher.calls.allSatisfy { $0.streamId == 42 }, row.name)
                row.check(h)
            }
        }
    }
}
