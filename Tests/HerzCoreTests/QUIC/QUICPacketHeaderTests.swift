import HerzCore
import XCTest

final class QUICPacketHeaderTests: XCTestCase {
    private func longHeader(first: UInt8 = 0xc0, version: UInt32 = 1, dcid: [UInt8], scid: [UInt8], padTo: Int = 0) -> [UInt8] {
        var bytes = [first]
        bytes += withUnsafeBytes(of: version.bigEndian) { Array($0) }
        bytes += [UInt8(dcid.count)] + dcid + [UInt8(scid.count)] + scid
        if bytes.count < padTo { bytes += [UInt8](repeating: 0, count: padTo - bytes.count) }
        return bytes
    }

    func testParsesLongHeaderFields() {
        let header = QUICPacketHeader.parse(longHeader(first: 0xe0, dcid: [1, 2, 3, 4, 5, 6, 7, 8], scid: [9, 9]), shortHeaderIDLength: 18)
        XCTAssertEqual(header, .long(version: 1, typeBits: 2, destination: QUICConnectionID([1, 2, 3, 4, 5, 6, 7, 8])!,
                                     source: QUICConnectionID([9, 9])!))
    }

    func testParsesShortHeaderWithTheServersIDLength() {
        let id = [UInt8](1...18)
        let header = QUICPacketHeader.parse([0x40] + id + [0xaa, 0xbb], shortHeaderIDLength: 18)
        XCTAssertEqual(header, .short(destination: QUICConnectionID(id)!))
    }

    /// RFC 9287: with `grease_quic_bit` advertised (ngtcp2's default, so Herz's), clients such as
    /// ngtcp2's clear the fixed bit in 1-RTT packets; dropping those stalled every connection.
    func testParsesShortHeaderWithAGreasedFixedBit() {
        let id = [UInt8](1...18)
        for first: UInt8 in [0x00, 0x02, 0x1c] {
            XCTAssertEqual(QUICPacketHeader.parse([first] + id + [0xaa], shortHeaderIDLength: 18), .short(destination: QUICConnectionID(id)!))
        }
    }

    func testRejectsWhatCannotBeAQUICPacket() {
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("short header shorter than the ID", [0x40, 1, 2, 3]),
            ("long header cut in the version", [0xc0, 0, 0]),
            ("destination ID longer than 20", longHeader(dcid: [UInt8](repeating: 7, count: 21), scid: [])),
            ("destination ID past the end", [0xc0, 0, 0, 0, 1, 9, 1, 2]),
            ("source length missing", [0xc0, 0, 0, 0, 1, 1, 5]),
        ]
        for (name, bytes) in cases {
            XCTAssertNil(QUICPacketHeader.parse(bytes, shortHeaderIDLength: 18), name)
        }
    }

    func testConnectionIDRoundTripsItsBytesAndDistinguishesLengths() {
        let bytes = [UInt8](0..<20)
        XCTAssertEqual(QUICConnectionID(bytes)!.bytes, bytes)
        XCTAssertNotEqual(QUICConnectionID([0, 0])!, QUICConnectionID([0, 0, 0])!)
        XCTAssertNil(QUICConnectionID([UInt8](repeating: 0, count: 21)))
        XCTAssertEqual(QUICConnectionID([0xab, 0x01])!.description, "ab01")
    }

    func testLayoutPutsTheWorkerInTheFirstByte() {
        let layout = QUICConnectionIDLayout()
        let id = layout.makeID(worker: 3) { bytes in for i in bytes.indices { bytes[i] = 0xff } }
        XCTAssertEqual(id.count, QUICConnectionIDLayout.standardLength)
        XCTAssertEqual(id[0], 3)
        XCTAssertEqual(id[1], 0xff)
        XCTAssertEqual(layout.owner(of: id, workerCount: 4), 3)
        XCTAssertNil(layout.owner(of: id, workerCount: 3), "a worker index beyond the pool is nobody's")
        XCTAssertNil(layout.owner(of: QUICConnectionID([3, 1, 2, 3, 4, 5, 6, 7])!, workerCount: 4), "client-chosen lengths are nobody's")
    }
}
