import NIOHTTP1
import XCTest
@testable import HerzCore

/// Which filters a stream gets when factories decide on the request head (HeadDecision).
final class FilterChainPlanTests: XCTestCase {
    private final class Named: HTTPFilter {
        let name: String
        init(_ name: String) { self.name = name }
    }

    private final class Factory: HTTPFilterFactory, @unchecked Sendable {
        let name: String
        let decision: HeadDecision
        var asked = 0
        init(_ name: String, _ decision: HeadDecision) { self.name = name; self.decision = decision }
        var filterType: String { name }
        func makeFilter(streamInfo: StreamInfo) -> HTTPFilter { Named(name) }
        func decideOnHead(_ head: HTTPRequestHead, streamInfo: StreamInfo) -> HeadDecision {
            asked += 1
            return decision
        }
    }

    private struct Plain: HTTPFilterFactory {
        var filterType: String { "plain" }
        func makeFilter(streamInfo: StreamInfo) -> HTTPFilter { Named("plain") }
    }

    private func plan(_ factories: [HTTPFilterFactory]) -> [String] {
        let info = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "1")
        return FilterChainPlan.filters(for: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"), streamInfo: info,
                                       factories: factories)
            .map { ($0 as! Named).name }
    }

    func testEveryFactoryPassing_LeavesNoFilter() {
        XCTAssertEqual(plan([Factory("a", .pass), Factory("b", .pass)]), [])
        XCTAssertEqual(plan([]), [])
    }

    func testFromTheFirstFilterThatRuns_EveryLaterFactoryMakesItsFilterUnasked() {
        let later = Factory("c", .pass)
        XCTAssertEqual(plan([Factory("a", .pass), Factory("b", .runFilter), later]), ["b", "c"])
        XCTAssertEqual(later.asked, 0, "a filter that runs may change the head: later factories are not asked")
    }

    func testAFactoryWithoutAHeadDecisionAlwaysRuns() {
        let after = Factory("b", .pass)
        XCTAssertEqual(plan([Plain(), after]), ["plain", "b"])
        XCTAssertEqual(after.asked, 0)
        XCTAssertEqual(plan([Factory("a", .pass), Plain()]), ["plain"])
    }
}
