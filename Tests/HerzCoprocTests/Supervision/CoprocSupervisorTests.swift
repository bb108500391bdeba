import XCTest
@testable import HerzCoproc

final class CoprocSupervisorTests: XCTestCase {
    private let ms: UInt64 = 1_000_000

    private func hello(name: String = "jwt", ring: UInt32 = CoprocProtocol.ringVersion, pid: UInt32 = 42, session: UInt64) -> Hello {
        Hello(ringVersion: ring, name: name, buildVersion: "1.0", pid: pid, sessionId: session)
    }

    /// Drives a supervisor to a ready session attached through `inode`; returns its id.
    private func ready(_ supervisor: inout CoprocSupervisor, now: UInt64, inode: UInt64 = 7) -> UInt64 {
        let actions = supervisor.tick(now: now, socketInode: inode)
        guard case .attach(let id)? = actions.last else {
            XCTFail("expected an attach, got \(actions)")
            return 0
        }
        XCTAssertEqual(supervisor.attached(sessionId: id, socketInode: inode, now: now), [.sendHello(sessionId: id)])
        let ready = supervisor.helloReceived(sessionId: id, hello: hello(session: id), now: now)
        XCTAssertTrue(ready.contains(.activate(sessionId: id)), "\(ready)")
        return id
    }

    func testNoAttachWhileTheSocketPathDoesNotExist() {
        var supervisor = CoprocSupervisor(name: "jwt")
        XCTAssertEqual(supervisor.tick(now: 0, socketInode: nil), [])
        XCTAssertEqual(supervisor.tick(now: 0, socketInode: 5), [.attach(sessionId: 1)])
        // One attempt at a time.
        XCTAssertEqual(supervisor.tick(now: 1 * ms, socketInode: 5), [])
    }

    func testHandshakeMakesTheSessionActiveAndHeartbeatsFollow() {
        var supervisor = CoprocSupervisor(name: "jwt")
        let id = ready(&supervisor, now: 0)
        XCTAssertEqual(supervisor.activeSessionId, id)
        XCTAssertEqual(supervisor.handshakes, 1)
        XCTAssertEqual(supervisor.tick(now: 5 * ms, socketInode: 7), [])
        XCTAssertEqual(supervisor.tick(now: 10 * ms, socketInode: 7), [.sendHeartbeat(sessionId: id, sequence: 1)])
        XCTAssertEqual(supervisor.heartbeatAck(sessionId: id, sequence: 1, now: 11 * ms), [])
        XCTAssertEqual(supervisor.tick(now: 20 * ms, socketInode: 7), [.sendHeartbeat(sessionId: id, sequence: 2)])
    }

    func testSilenceBeyondTheHungLimitClosesTheSessionWithinFiftyMilliseconds() {
        var supervisor = CoprocSupervisor(name: "jwt")
        let id = ready(&supervisor, now: 0)
        var closedAt: UInt64?
        var now: UInt64 = 0
        while closedAt == nil, now < 100 * ms {
            now += 5 * ms
            let actions = supervisor.tick(now: now, socketInode: 7)
            if actions.contains(.close(sessionId: id, reason: .hung)) {
                XCTAssertTrue(actions.contains(.deactivate(reason: .hung)))
                closedAt = now
            }
        }
        XCTAssertNotNil(closedAt)
        XCTAssertLessThanOrEqual(closedAt!, 50 * ms)
        XCTAssertNil(supervisor.activeSessionId)
        XCTAssertEqual(supervisor.sessionsLost, 1)
    }

    func testPeerGoneDeactivatesAndReconnectsWithDoublingBackoff() {
        var supervisor = CoprocSupervisor(name: "jwt")
        let id = ready(&supervisor, now: 0)
        let gone = supervisor.peerGone(sessionId: id, now: 100 * ms)
        XCTAssertTrue(gone.contains(.deactivate(reason: .down)))
        XCTAssertTrue(gone.contains(.close(sessionId: id, reason: .down)))
        // Backoff 10 ms, then the attempt fails, then 20 ms.
        XCTAssertEqual(supervisor.tick(now: 105 * ms, socketInode: 7), [])
        guard case .attach(let second)? = supervisor.tick(now: 110 * ms, socketInode: 7).last else { return XCTFail() }
        _ = supervisor.attachFailed(sessionId: second, error: "connection refused", now: 110 * ms)
        XCTAssertEqual(supervisor.tick(now: 125 * ms, socketInode: 7), [])
        guard case .attach(let third)? = supervisor.tick(now: 130 * ms, socketInode: 7).last else { return XCTFail() }
        _ = supervisor.attached(sessionId: third, socketInode: 8, now: 131 * ms)
        XCTAssertTrue(supervisor.helloReceived(sessionId: third, hello: hello(session: third), now: 132 * ms).contains(.activate(sessionId: third)))
        XCTAssertEqual(supervisor.handshakes, 2)
    }

    func testBackoffIsCappedAndResetByASuccessfulHandshake() {
        var timing = SupervisorTiming()
        timing.backoffMax = 40 * ms
        var supervisor = CoprocSupervisor(name: "jwt", timing: timing)
        var now: UInt64 = 0
        var gaps: [UInt64] = []
        var lastAttempt: UInt64?
        while gaps.count < 5 {
            for action in supervisor.tick(now: now, socketInode: 1) {
                if case .attach(let id) = action {
                    if let last = lastAttempt { gaps.append(now - last) }
                    lastAttempt = now
                    _ = supervisor.attachFailed(sessionId: id, error: "refused", now: now)
                }
            }
            now += 1 * ms
        }
        XCTAssertEqual(gaps, [10 * ms, 20 * ms, 40 * ms, 40 * ms, 40 * ms])
    }

    func testVersionOrNameMismatchIsRefusedWithAClearReason() {
        for (peer, expected) in [
            (hello(ring: 99, session: 1), "ring protocol 99, kernel speaks 1"),
            (hello(name: "aesgcm", session: 1), "it calls itself aesgcm, the kernel expects jwt"),
        ] {
            var supervisor = CoprocSupervisor(name: "jwt")
            _ = supervisor.tick(now: 0, socketInode: 3)
            _ = supervisor.attached(sessionId: 1, socketInode: 3, now: 0)
            let actions = supervisor.helloReceived(sessionId: 1, hello: peer, now: 0)
            XCTAssertEqual(actions.first, .refuse(sessionId: 1, reason: expected))
            XCTAssertTrue(actions.contains(.close(sessionId: 1, reason: .refused)))
            XCTAssertFalse(actions.contains(.activate(sessionId: 1)))
            XCTAssertNil(supervisor.activeSessionId)
            XCTAssertTrue(supervisor.lastError?.contains(expected) ?? false)
        }
    }

    func testANewProcessAtThePathTakesOverAndTheOldSessionDrains() {
        var supervisor = CoprocSupervisor(name: "jwt")
        let old = ready(&supervisor, now: 0, inode: 7)
        // The inode changes: a second session is attached while the first keeps serving.
        let actions = supervisor.tick(now: 5 * ms, socketInode: 9)
        guard case .attach(let new)? = actions.last else { return XCTFail("\(actions)") }
        XCTAssertEqual(supervisor.activeSessionId, old)
        _ = supervisor.attached(sessionId: new, socketInode: 9, now: 6 * ms)
        let handOver = supervisor.helloReceived(sessionId: new, hello: hello(pid: 43, session: new), now: 7 * ms)
        XCTAssertEqual(Array(handOver.suffix(2)), [.activate(sessionId: new), .drain(sessionId: old)])
        XCTAssertFalse(handOver.contains { if case .deactivate = $0 { return true } else { return false } })
        XCTAssertEqual(supervisor.session(old)?.phase, .draining)
        XCTAssertEqual(supervisor.drained(sessionId: old, now: 8 * ms), [.close(sessionId: old, reason: .drained)])
        XCTAssertEqual(supervisor.activeSessionId, new)
        // No further attach: the active session sits on the current inode.
        XCTAssertFalse(supervisor.tick(now: 30 * ms, socketInode: 9).contains { if case .attach = $0 { return true } else { return false } })
        XCTAssertEqual(supervisor.sessionsLost, 0)
    }

    func testADrainedProcessExitingIsNotAFailure() {
        var supervisor = CoprocSupervisor(name: "jwt")
        let old = ready(&supervisor, now: 0, inode: 7)
        XCTAssertEqual(supervisor.operatorDrain().count, 1)
        guard case .attach(let new)? = supervisor.tick(now: 1 * ms, socketInode: 7).last else { return XCTFail() }
        _ = supervisor.attached(sessionId: new, socketInode: 7, now: 1 * ms)
        _ = supervisor.helloReceived(sessionId: new, hello: hello(session: new), now: 2 * ms)
        XCTAssertEqual(supervisor.peerGone(sessionId: old, now: 3 * ms), [.close(sessionId: old, reason: .drained)])
        XCTAssertEqual(supervisor.sessionsLost, 0)
    }

    func testAViolationClosesTheSessionAsAProtocolFailure() {
        var supervisor = CoprocSupervisor(name: "jwt")
        let id = ready(&supervisor, now: 0)
        let actions = supervisor.violation(sessionId: id, detail: "answer for unknown call 77", now: 1 * ms)
        XCTAssertTrue(actions.contains(.deactivate(reason: .protocol)))
        XCTAssertTrue(actions.contains(.close(sessionId: id, reason: .protocol)))
        XCTAssertTrue(supervisor.lastError?.contains("unknown call 77") ?? false)
    }

    func testAHandshakeThatNeverCompletesTimesOut() {
        var supervisor = CoprocSupervisor(name: "jwt")
        _ = supervisor.tick(now: 0, socketInode: 3)
        _ = supervisor.attached(sessionId: 1, socketInode: 3, now: 0)
        XCTAssertTrue(supervisor.tick(now: 1_001 * ms, socketInode: 3).contains(.close(sessionId: 1, reason: .hung)))
    }

    func testEventsForUnknownSessionsAreIgnored() {
        var supervisor = CoprocSupervisor(name: "jwt")
        XCTAssertEqual(supervisor.peerGone(sessionId: 9, now: 0), [])
        XCTAssertEqual(supervisor.violation(sessionId: 9, detail: "x", now: 0), [])
        XCTAssertEqual(supervisor.helloReceived(sessionId: 9, hello: hello(session: 9), now: 0), [])
        XCTAssertEqual(supervisor.drained(sessionId: 9, now: 0), [])
    }

    func testARetiredCoprocessorDrainsItsSessionsAndNeverAttachesAgain() {
        var supervisor = CoprocSupervisor(name: "jwt")
        let id = ready(&supervisor, now: 0, inode: 7)
        _ = supervisor.operatorDrain()
        guard case .attach(let connecting)? = supervisor.tick(now: 1 * ms, socketInode: 7).last else { return XCTFail() }
        let actions = supervisor.retire(now: 2 * ms)
        XCTAssertTrue(actions.contains(.drain(sessionId: id)), "\(actions)")
        XCTAssertTrue(actions.contains(.close(sessionId: connecting, reason: .drained)), "\(actions)")
        XCTAssertEqual(supervisor.session(id)?.phase, .draining)
        XCTAssertEqual(supervisor.retire(now: 3 * ms), [], "retiring twice does nothing")
        // The drained session closes; nothing is attached again, even with a process at the path.
        XCTAssertEqual(supervisor.drained(sessionId: id, now: 4 * ms), [.deactivate(reason: .drained), .close(sessionId: id, reason: .drained)])
        XCTAssertTrue(supervisor.sessions.isEmpty)
        XCTAssertEqual(supervisor.tick(now: 2_000 * ms, socketInode: 7), [])
        XCTAssertEqual(supervisor.sessionsLost, 0)
    }

    func testTheKernelsOwnStallIsNotHeldAgainstTheCoprocessor() {
        var supervisor = CoprocSupervisor(name: "jwt")
        let id = ready(&supervisor, now: 0)
        XCTAssertEqual(supervisor.tick(now: 10 * ms, socketInode: 7), [.sendHeartbeat(sessionId: id, sequence: 1)])
        // The supervisor thread was not scheduled for 200 ms: no heartbeat could go out or be read.
        let afterStall = supervisor.tick(now: 210 * ms, socketInode: 7)
        XCTAssertFalse(afterStall.contains(.close(sessionId: id, reason: .hung)), "\(afterStall)")
        // The coprocessor still has to answer within the limit once the kernel runs again.
        var now: UInt64 = 210 * ms
        var closed = false
        while !closed, now < 400 * ms {
            now += 5 * ms
            closed = supervisor.tick(now: now, socketInode: 7).contains(.close(sessionId: id, reason: .hung))
        }
        XCTAssertTrue(closed)
        XCTAssertLessThanOrEqual(now, 270 * ms)
    }
}
