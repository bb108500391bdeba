import HerzCore
import HerzCoproc
import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCoprocFilter

/// Failure policies, cancellation, StreamEnd, the body bound, streaming replacement, phase selection.
final class CoprocFilterLifecycleTests: XCTestCase {
    func testFailClosedRepliesWith503BodyAndHeader() {
        let h = CoprocHarness(phases: [.requestHeaders], script: [.failClosed(reason: "timeout")])
        h.request(end: true)
        XCTAssertEqual(h.log, ["resp.head(503)", "resp.data(coprocessor jwt unavailable (timeout),E)", "complete"])
        XCTAssertEqual(h.sink.responseHead?.headers.first(name: "x-herz-coproc-error"), "timeout")
        XCTAssertEqual(h.dispatcher.ended.map(\.reset), [false])
    }

    func testFailOpenPassesHeadersAndOriginalChunksUnchanged() {
        let h = CoprocHarness(phases: [.requestHeaders, .requestBody],
                              script: [.failOpen(reason: "down"), .failOpen(reason: "down"), .failOpen(reason: "down")])
        h.request(headers: ["host": "h", "content-length": "4"])
        h.data("ab")
        h.data("cd", end: true)
        XCTAssertEqual(h.log, ["fwd.head", "fwd.data(ab)", "fwd.data(cd,E)"])
        XCTAssertEqual(h.sink.requestHead?.headers.first(name: "host"), "h")
    }

    func testResetWhileCallOutstandingCancelsAndIgnoresTheLateCompletion() {
        let h = CoprocHarness(phases: [.requestHeaders])
        h.request()
        XCTAssertEqual(h.dispatcher.pending.count, 1)
        h.manager.resetStream(.peerReset)
        XCTAssertEqual(h.dispatcher.cancelled, [CoprocCallTicket(rawValue: 1)])
        XCTAssertEqual(h.dispatcher.ended.count, 1)
        XCTAssertEqual(h.dispatcher.ended.first?.reset, true)
        XCTAssertEqual(h.dispatcher.ended.first?.streamId, 42)
        // A dispatcher that (wrongly) completes anyway changes nothing.
        h.dispatcher.cancelledCompletions.first?(headers(.continue))
        XCTAssertEqual(h.log, ["complete"])
        XCTAssertEqual(h.dispatcher.calls.count, 1)
    }

    func testStreamEndedOnceAfterANormalExchange() {
        let h = CoprocHarness(phases: [.requestHeaders, .responseHeaders], script: [headers(.continue), headers(.continue)])
        h.request(.GET, end: true)
        h.response()
        h.responseData("ok", end: true)
        XCTAssertEqual(h.log, ["fwd.head(E)", "resp.head(200)", "resp.data(ok,E)", "complete"])
        XCTAssertEqual(h.dispatcher.ended.count, 1)
        XCTAssertEqual(h.dispatcher.ended.first?.reset, false)
        h.manager.resetStream(.peerReset)  // after completion: ignored
        XCTAssertEqual(h.dispatcher.ended.count, 1)
    }

    func testNoStreamEndWithoutAnyCall() {
        let h = CoprocHarness(phases: [.requestTrailers])
        h.request(.GET, end: true)
        h.response(end: true)
        XCTAssertEqual(h.log, ["fwd.head(E)", "resp.head(200,E)", "complete"])
        XCTAssertTrue(h.dispatcher.calls.isEmpty)
        XCTAssertTrue(h.dispatcher.ended.isEmpty)
    }

    func testPhasesNotConfiguredAreNotSent() {
        let h = CoprocHarness(phases: [.requestHeaders, .responseTrailers], script: [headers(.continue)])
        h.request()
        h.data("ab", end: true)
        h.response()
        h.responseData("ok", end: true)
        XCTAssertEqual(h.dispatcher.phases, [.requestHeaders])
        XCTAssertEqual(h.log, ["fwd.head", "fwd.data(ab,E)", "resp.head(200)", "resp.data(ok,E)", "complete"])
    }

    func testCallCarriesPseudoHeadersRouteAndSettings() {
        let route = RouteEntry(name: "api", match: RouteMatch(path: .prefix("/")), action: .cluster("a"))
        let h = CoprocHarness(phases: [.requestHeaders], settings: #"{"aud":"api"}"#, route: route, script: [headers(.continue)])
        h.request(.PUT, uri: "/v1/x?y=1", headers: ["host": "api.example.com", "x-a": "1"], end: true)
        let call = h.dispatcher.calls[0]
        XCTAssertEqual(call.headers, [WireHeader(":method", "PUT"), WireHeader(":path", "/v1/x?y=1"),
                                      WireHeader(":authority", "api.example.com"), WireHeader(":scheme", "https"),
                                      WireHeader("host", "api.example.com"), WireHeader("x-a", "1")])
        XCTAssertEqual(call.route, "api")
        XCTAssertEqual(call.filterConfig, #"{"aud":"api"}"#)
        XCTAssertTrue(call.endStream)
    }

    func testRequestBodyQueueOverflowIs413() {
        let h = CoprocHarness(phases: [.requestBody], maxBodyBytes: 4)
        h.autoFlush = false
        h.request()
        h.data("ab")      // in flight
        h.data("cd")      // queued: 2 bytes
        h.data("ef")      // queued: 4 bytes
        XCTAssertEqual(h.log, ["fwd.head"])
        h.data("g")       // 5 > 4
        XCTAssertEqual(h.log, ["fwd.head", "cancel", "resp.head(413)", "resp.data(request body too large,E)", "complete"])
        XCTAssertEqual(h.dispatcher.cancelled.count, 1)
        XCTAssertEqual(h.dispatcher.ended.map(\.reset), [false])
    }

    func testCollectedBodyOverflowIs413() {
        let h = CoprocHarness(phases: [.requestHeaders], maxBodyBytes: 3, script: [headers(.stopAllIterationAndBuffer)])
        h.request()
        h.data("ab")
        h.data("cd")
        XCTAssertEqual(h.log, ["resp.head(413)", "resp.data(request body too large,E)", "complete"])
    }

    func testResponseBodyOverflowIs500BeforeHeadersAndResetAfter() {
        let before = CoprocHarness(phases: [.responseHeaders], maxBodyBytes: 2)
        before.autoFlush = false
        before.request(.GET, end: true)
        before.response()            // in flight: headers held
        before.responseData("abc")   // 3 > 2
        // The manager cancels the upstream, whose response had not ended, for any local reply.
        XCTAssertEqual(before.log, ["fwd.head(E)", "cancel", "resp.head(500)", "resp.data(response body too large,E)", "complete"])

        let after = CoprocHarness(phases: [.responseBody], maxBodyBytes: 2)
        after.autoFlush = false
        after.request(.GET, end: true)
        after.response()             // passes: headers are not a configured phase
        after.responseData("ab")     // in flight
        after.responseData("cde")    // 3 > 2
        XCTAssertEqual(after.log, ["fwd.head(E)", "resp.head(200)", "cancel", "reset(localReplyAfterResponseStarted)", "complete"])
        XCTAssertEqual(after.dispatcher.ended.map(\.reset), [true])
    }

    /// A streaming replacement that keeps bytes back: the coprocessor holds "ab" (stopIterationNoBuffer),
    /// passes a rewritten "cd", then returns the held bytes with the last answer. Chunks that arrive
    /// while a call is out wait in order; the body that leaves is exactly what the answers said.
    func testStreamingReplacementKeepingBytesBackEndsWellFormed() {
        let h = CoprocHarness(phases: [.requestHeaders, .requestBody])
        h.autoFlush = false
        h.request(headers: ["host": "h", "content-length": "6"])
        h.dispatcher.answer(headers(.continue))
        XCTAssertEqual(h.log, ["fwd.head"])
        XCTAssertFalse(h.sink.requestHead?.headers.contains(name: "content-length") ?? true)
        h.data("ab")
        h.data("cd")
        h.data("ef", end: true)
        XCTAssertEqual(h.dispatcher.calls.count, 2, "one call in flight; the rest wait")
        h.dispatcher.answer(data(.stopIterationNoBuffer))
        XCTAssertEqual(h.log, ["fwd.head"])
        h.dispatcher.answer(data(.continue, "CD"))
        XCTAssertEqual(h.log, ["fwd.head", "fwd.data(CD)"])
        h.dispatcher.answer(data(.continue, "ab+ef"))
        XCTAssertEqual(h.log, ["fwd.head", "fwd.data(CD)", "fwd.data(ab+ef,E)"])
        XCTAssertEqual(h.dispatcher.calls.map { String(buffer: $0.body) }, ["", "ab", "cd", "ef"])
        XCTAssertEqual(h.dispatcher.calls.map(\.endStream), [false, false, false, true])
    }

    func testResponseWaitsBehindAnOutstandingRequestCall() {
        let h = CoprocHarness(phases: [.requestBody, .responseHeaders])
        h.autoFlush = false
        h.request()
        h.data("ab")                  // request body call in flight
        h.response()                  // early response: waits for the call
        XCTAssertEqual(h.dispatcher.calls.count, 1)
        h.dispatcher.answer(data(.continue))
        XCTAssertEqual(h.dispatcher.phases, [.requestBody, .responseHeaders])
        h.dispatcher.answer(headers(.continue))
        XCTAssertEqual(h.log, ["fwd.head", "fwd.data(ab)", "resp.head(200)"])
    }

    func testRouteOverrideDisablesTheFilter() {
        let route = RouteEntry(name: "public", match: RouteMatch(path: .prefix("/")), action: .cluster("a"),
                               perFilterConfig: ["coproc": .coproc(CoprocFilterConfig(coprocessor: "", disabled: true))])
        let h = CoprocHarness(phases: [.requestHeaders], route: route)
        h.request(.GET, end: true)
        XCTAssertEqual(h.log, ["fwd.head(E)"])
        XCTAssertTrue(h.dispatcher.calls.isEmpty)
    }
}
