import XCTest
import HerzCoproc

final class RingMessagesTests: XCTestCase {
    func testPhaseConfigNamesMatchTheConfigVocabulary() {
        XCTAssertEqual(CallPhase.allCases.map(\.configName),
                       ["request_headers", "request_body", "request_trailers", "response_headers", "response_body", "response_trailers"])
    }

    func testHeaderMutationIsEmptyOnlyWithoutEdits() {
        XCTAssertTrue(HeaderMutation().isEmpty)
        XCTAssertFalse(HeaderMutation(remove: ["x"]).isEmpty)
    }
}
