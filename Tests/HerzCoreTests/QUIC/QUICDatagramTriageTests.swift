import HerzCore
import XCTest

/// The triage table: each row is a datagram shape and what the endpoint must do with it.
final class QUICDatagramTriageTests: XCTestCase {
    let layout = QUICConnectionIDLayout()
    lazy var triage = QUICDatagramTriage(layout: layout, localWorker: 1, workerCount: 3, statelessReset: true)

    func serverID(worker: Int) -> QUICConnectionID { layout.makeID(worker: worker) { _ in } }
    let clientID = QUICConnectionID([1, 2, 3, 4, 5, 6, 7, 8])!

    func long(_ version: UInt32 = 1, type: UInt8 = 0, dcid: QUICConnectionID) -> QUICPacketHeader {
        .long(version: version, typeBits: type, destination: dcid, source: QUICConnectionID([9])!)
    }

    func testTable() {
        let rows: [(String, QUICPacketHeader?, Int, Bool, QUICDatagramAction)] = [
            ("unparseable", nil, 1200, false, .drop(.malformed)),
            ("known connection", .short(destination: serverID(worker: 1)), 60, true, .deliver),
            ("known wins over the worker byte", .short(destination: serverID(worker: 2)), 60, true, .deliver),
            ("another worker's ID after a 4-tuple change", .short(destination: serverID(worker: 2)), 60, false, .forward(worker: 2)),
            ("another worker's ID in a long header", long(type: 2, dcid: serverID(worker: 0)), 1200, false, .forward(worker: 0)),
            ("Initial for a new connection", long(dcid: clientID), 1200, false, .newConnection),
            ("Initial under 1200 bytes", long(dcid: clientID), 1199, false, .drop(.shortInitial)),
            ("Initial with a 4-byte ID", long(dcid: QUICConnectionID([1, 2, 3, 4])!), 1200, false, .drop(.shortInitialID)),
            ("0-RTT without a connection", long(type: 1, dcid: clientID), 1200, false, .drop(.unknownConnection)),
            ("Handshake without a connection", long(type: 2, dcid: clientID), 1200, false, .drop(.unknownConnection)),
            ("unknown version, full size", long(0xff00_001d, dcid: clientID), 1200, false, .versionNegotiation),
            ("unknown version, small", long(0xff00_001d, dcid: clientID), 1000, false, .drop(.shortUnknownVersion)),
            ("Version Negotiation sent to a server", long(0, dcid: clientID), 1200, false, .drop(.unexpectedVersionNegotiation)),
            ("short header, our forgotten ID", .short(destination: serverID(worker: 1)), 60, false, .statelessReset),
            ("short header, too small to answer smaller", .short(destination: serverID(worker: 1)), 22, false, .drop(.noReset)),
        ]
        for (name, header, size, known, expected) in rows {
            XCTAssertEqual(triage.action(header: header, datagramSize: size, isKnown: known), expected, name)
        }
    }

    func testStatelessResetCanBeDisabled() {
        let quiet = QUICDatagramTriage(layout: layout, localWorker: 1, workerCount: 3, statelessReset: false)
        XCTAssertEqual(quiet.action(header: .short(destination: serverID(worker: 1)), datagramSize: 100, isKnown: false), .drop(.noReset))
    }
}
