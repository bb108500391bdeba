import NIOCore
import NIOEmbedded
import XCTest

@testable import HerzHTTP

final class DeadlineQueueTests: XCTestCase {
    final class Owner: DeadlineOwner {
        var token: UInt64?
        var fired: [UInt64] = []
        func deadlineExpired(token: UInt64) { fired.append(token) }
    }

    func testExpiresInDeadlineOrderAcrossLanesAndSkipsDeadOwners() {
        let loop = EmbeddedEventLoop()
        let queue = DeadlineQueue(eventLoop: loop)
        let a = Owner(), b = Owner(), c = Owner()
        let ta = queue.add(after: .seconds(10), owner: a)
        let tb = queue.add(after: .seconds(2), owner: b)
        var dead: Owner? = Owner()
        _ = queue.add(after: .seconds(2), owner: dead!)
        dead = nil
        let tc = queue.add(after: .seconds(5), owner: c)
        loop.advanceTime(by: .seconds(1))
        XCTAssertEqual(b.fired + c.fired + a.fired, [])
        loop.advanceTime(by: .seconds(1))
        XCTAssertEqual(b.fired, [tb])
        loop.advanceTime(by: .seconds(3))
        XCTAssertEqual(c.fired, [tc])
        XCTAssertEqual(a.fired, [])
        loop.advanceTime(by: .seconds(5))
        XCTAssertEqual(a.fired, [ta])
        XCTAssertEqual(queue.count, 0)
    }

    func testEntriesOfFinishedOwnersAreDroppedOnAdd() {
        let loop = EmbeddedEventLoop()
        let queue = DeadlineQueue(eventLoop: loop)
        for _ in 0..<1000 {
            let owner = Owner()
            _ = queue.add(after: .seconds(15), owner: owner)
        }  // every owner is gone again
        let live = Owner()
        _ = queue.add(after: .seconds(15), owner: live)
        XCTAssertEqual(queue.count, 1)
    }
}
