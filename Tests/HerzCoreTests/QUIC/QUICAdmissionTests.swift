import HerzCore
import XCTest

final class QUICAdmissionTests: XCTestCase {
    func testRetryModesAndLimits() {
        let rows: [(String, QUICRetryMode, Int, QUICAdmission.Token, Int, Int, QUICAdmission.Decision)] = [
            ("off accepts", .off, 10, .none, 0, 0, .accept),
            ("always asks for a Retry", .always, 10, .none, 0, 0, .sendRetry),
            ("a Retry token is verified, not retried again", .always, 10, .retry, 0, 0, .verifyRetryToken),
            ("an unknown token does not count as validation", .always, 10, .other, 0, 0, .sendRetry),
            ("under load, quiet: accept", .underLoad(handshakes: 5), 10, .none, 0, 4, .accept),
            ("under load, busy: Retry", .underLoad(handshakes: 5), 10, .none, 0, 5, .sendRetry),
            ("over the connection limit: refuse", .off, 10, .none, 10, 0, .refuse),
            ("the limit applies even with a Retry token", .always, 10, .retry, 10, 0, .refuse),
            ("a NEW_TOKEN token is verified instead of a Retry", .always, 10, .addressToken, 0, 0, .verifyAddressToken),
            ("a NEW_TOKEN token is verified when busy", .underLoad(handshakes: 5), 10, .addressToken, 0, 9, .verifyAddressToken),
            ("the limit applies even with a NEW_TOKEN token", .always, 10, .addressToken, 10, 0, .refuse),
        ]
        for (name, mode, limit, token, connections, handshakes, expected) in rows {
            let admission = QUICAdmission(retry: mode, maxConnections: limit)
            XCTAssertEqual(admission.decide(token: token, connections: connections, handshakesInProgress: handshakes), expected, name)
        }
    }
}
