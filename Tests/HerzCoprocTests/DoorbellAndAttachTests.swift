import XCTest
import Glibc
import HerzCoproc

final class DoorbellTests: XCTestCase {
    func testRingDrainAndEOF() throws {
        let (kernel, coprocessor) = try Doorbell.pair()
        XCTAssertEqual(coprocessor.drain(), .drained(bytes: 0))
        XCTAssertTrue(kernel.ring())
        XCTAssertTrue(kernel.ring())
        XCTAssertEqual(coprocessor.drain(), .drained(bytes: 2))
        kernel.close()
        XCTAssertEqual(coprocessor.drain(), .peerGone)
        XCTAssertFalse(coprocessor.ring(), "writing to a closed peer reports it, without SIGPIPE")
    }

    func testFullSocketBufferIsNotAnError() throws {
        let (kernel, coprocessor) = try Doorbell.pair()
        var ok = true
        for _ in 0..<20_000 { ok = ok && kernel.ring() }
        XCTAssertTrue(ok)
        guard case .drained(let bytes) = coprocessor.drain() else { return XCTFail("peer gone") }
        XCTAssertGreaterThan(bytes, 0)
        XCTAssertLessThan(bytes, 20_000, "the socket buffer filled up")
    }
}

final class AttachSocketTests: XCTestCase {
    /// Test framing: a 4-byte little-endian total length.
    static func lengthPrefixed(_ bytes: UnsafeRawBufferPointer) -> Int? {
        bytes.count < 4 ? nil : Int(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
    }

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(payload.count + 4).littleEndian, Array.init) + payload
    }

    private var path = ""

    override func setUp() {
        path = "/tmp/herz-attach-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    func testListenAcceptCredentialsFramesAndDescriptors() throws {
        let listener = try AttachListener(path: path)
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o660)
        XCTAssertNil(try listener.accept(), "nobody connected yet")

        let client = try AttachSocket.connect(path: path)
        let server = try XCTUnwrap(listener.accept())
        try server.setTimeout(millis: 2000)
        let credentials = try server.peerCredentials()
        XCTAssertEqual(credentials, PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid()))

        let region = try SharedRegion.create(workers: 1, ringBytes: 4096)
        let (bell, _) = try Doorbell.pair()
        // Two frames in one go: the first carries descriptors; the second must survive intact.
        try client.send(Self.frame([1, 2, 3]) + Self.frame([9]), fds: [region.fd, bell.fd])
        let first = try server.receive(limit: 1024, frameLength: Self.lengthPrefixed)
        XCTAssertEqual(first.bytes, Self.frame([1, 2, 3]))
        XCTAssertEqual(first.fds.count, 2)
        let mapped = try SharedRegion.map(fd: first.fds[0], layout: region.layout)
        XCTAssertEqual(mapped.layout, region.layout)
        close(first.fds[1])
        let second = try server.receive(limit: 1024, frameLength: Self.lengthPrefixed)
        XCTAssertEqual(second.bytes, Self.frame([9]))
        XCTAssertEqual(second.fds, [])

        XCTAssertFalse(server.peerClosed())
        client.close()
        XCTAssertTrue(server.peerClosed())
        XCTAssertThrowsError(try server.receive(limit: 1024, frameLength: Self.lengthPrefixed)) { error in
            XCTAssertEqual(error as? TransportError, .peerClosed)
        }
    }

    func testOversizedFrameIsRefused() throws {
        let listener = try AttachListener(path: path)
        let client = try AttachSocket.connect(path: path)
        let server = try XCTUnwrap(listener.accept())
        try client.send(Self.frame([UInt8](repeating: 0, count: 100)))
        XCTAssertThrowsError(try server.receive(limit: 50, frameLength: Self.lengthPrefixed)) { error in
            guard case .invalidFrame? = error as? TransportError else { return XCTFail("\(error)") }
        }
    }

    func testPathIsTakenOverAtomicallyAndOnlyTheOwnerUnlinks() throws {
        let old = try AttachListener(path: path)
        let new = try AttachListener(path: path)
        XCTAssertFalse(old.ownsPath)
        XCTAssertTrue(new.ownsPath)
        old.close()
        XCTAssertEqual(access(path, F_OK), 0, "the old listener left the new socket alone")
        let client = try AttachSocket.connect(path: path)
        XCTAssertNotNil(try new.accept())
        client.close()
        new.close()
        XCTAssertNotEqual(access(path, F_OK), 0)
    }
}
