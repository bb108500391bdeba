import XCTest
import HerzCoproc

final class CoprocCallLedgerTests: XCTestCase {
    private func answer(_ id: UInt64, _ result: AnswerResult = .headers(.continue, HeaderMutation())) -> CoprocAnswer {
        CoprocAnswer(callId: id, result: result)
    }

    func testAnAnswerIsDeliveredOnceAndASecondOneIsAViolation() {
        var ledger = CoprocCallLedger<String>()
        let id = ledger.begin(sessionId: 1, phase: .requestHeaders, token: "a")
        guard case .deliver("a") = ledger.answer(answer(id), sessionId: 1) else { return XCTFail() }
        guard case .violation(let why) = ledger.answer(answer(id), sessionId: 1) else { return XCTFail() }
        XCTAssertEqual(why, "answer for unknown call \(id)")
        XCTAssertEqual(ledger.count, 0)
    }

    func testALateAnswerToAnAbandonedCallIsDroppedOnce() {
        var ledger = CoprocCallLedger<String>()
        let id = ledger.begin(sessionId: 1, phase: .requestBody, token: "a")
        XCTAssertEqual(ledger.abandon(callId: id), "a")
        XCTAssertNil(ledger.abandon(callId: id))
        guard case .late = ledger.answer(answer(id, .data(.continue, body: nil)), sessionId: 1) else { return XCTFail() }
        guard case .violation = ledger.answer(answer(id, .data(.continue, body: nil)), sessionId: 1) else { return XCTFail() }
    }

    func testAnswersMustFitThePhaseAndTheSession() {
        var ledger = CoprocCallLedger<Int>()
        let headers = ledger.begin(sessionId: 1, phase: .responseHeaders, token: 1)
        guard case .violation(let kind) = ledger.answer(answer(headers, .data(.continue, body: nil)), sessionId: 1) else { return XCTFail() }
        XCTAssertEqual(kind, "answer of the wrong kind for a response_headers call")
        guard case .violation = ledger.answer(answer(headers), sessionId: 2) else { return XCTFail() }
        let body = ledger.begin(sessionId: 1, phase: .requestBody, token: 2)
        guard case .deliver(2) = ledger.answer(answer(body, .localReply(CoprocLocalReply(status: 403))), sessionId: 1) else { return XCTFail() }
        let trailers = ledger.begin(sessionId: 1, phase: .requestTrailers, token: 3)
        guard case .deliver(3) = ledger.answer(answer(trailers, .failure(.internal, message: "x")), sessionId: 1) else { return XCTFail() }
    }

    func testEndingASessionReturnsOnlyItsCallsInOrder() {
        var ledger = CoprocCallLedger<String>()
        _ = ledger.begin(sessionId: 1, phase: .requestHeaders, token: "a")
        _ = ledger.begin(sessionId: 2, phase: .requestHeaders, token: "b")
        _ = ledger.begin(sessionId: 1, phase: .requestHeaders, token: "c")
        XCTAssertEqual(ledger.count(sessionId: 1), 2)
        XCTAssertEqual(ledger.endSession(1), ["a", "c"])
        XCTAssertEqual(ledger.count, 1)
    }

    func testRecentIDsForgetTheOldestBeyondCapacity() {
        var recent = RecentCallIDs(capacity: 3)
        for id: UInt64 in 1...5 { recent.insert(id) }
        XCTAssertEqual(recent.count, 3)
        XCTAssertFalse(recent.take(1))
        XCTAssertFalse(recent.take(2))
        XCTAssertTrue(recent.take(5))
        XCTAssertFalse(recent.take(5))
    }
}
