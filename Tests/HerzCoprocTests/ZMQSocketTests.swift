import XCTest
import Glibc
import HerzCoproc

final class ZMQSocketTests: XCTestCase {
    func testDealerRouterRoundTripWithPolling() throws {
        let endpoint = "ipc:///tmp/herz-zmq-test-\(getpid()).ctl"
        let router = try ZMQSocket(.router)
        try router.bind(endpoint)
        let dealer = try ZMQSocket(.dealer)
        try dealer.connect(endpoint)
        let (bell, other) = try Doorbell.pair()

        XCTAssertNil(try router.receiveRouted())
        XCTAssertFalse(try ZMQPoller.poll(sockets: [router], fds: [other.fd], timeoutMillis: 0).any)

        try dealer.send([1, 2, 3])
        var ready = try ZMQPoller.poll(sockets: [router, dealer], fds: [other.fd], timeoutMillis: 2000)
        XCTAssertEqual(ready.sockets, [true, false])
        let (identity, frame) = try XCTUnwrap(router.receiveRouted())
        XCTAssertEqual(frame, [1, 2, 3])

        try router.send(identity: identity, frame: [4, 5])
        _ = try ZMQPoller.poll(sockets: [dealer], timeoutMillis: 2000)
        XCTAssertEqual(try dealer.receive(), [4, 5])
        XCTAssertNil(try dealer.receive())

        bell.ring()
        ready = try ZMQPoller.poll(sockets: [router], fds: [other.fd], timeoutMillis: 2000)
        XCTAssertEqual(ready, ZMQPoller.Ready(sockets: [false], fds: [true]))
        unlink("/tmp/herz-zmq-test-\(getpid()).ctl")
    }
}
