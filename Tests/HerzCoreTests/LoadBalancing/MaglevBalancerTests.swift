import XCTest
@testable import HerzCore

final class MaglevBalancerTests: XCTestCase {
    func testMaglevSlotsFollowWeights() {
        let lb = MaglevBalancer(endpoints: LB.endpoints(weights: [1, 2, 5]), tableSize: 65537)
        let slots = (0..<3).map { lb.slotCount(of: $0) }
        XCTAssertEqual(slots.reduce(0, +), 65537)
        LB.assertProportional(slots, weights: [1, 2, 5], tolerance: 0.01)
    }

    func testMaglevTableSizeIsPrime() {
        XCTAssertEqual(MaglevBalancer(endpoints: LB.endpoints(weights: [1]), tableSize: 65536).tableSize, 65537)
        XCTAssertEqual(MaglevBalancer(endpoints: LB.endpoints(weights: [1, 1]), tableSize: 251).tableSize, 251)
        XCTAssertEqual(MaglevBalancer(endpoints: LB.endpoints(weights: [1, 1, 1]), tableSize: 1).tableSize, 3)
    }

    func testUnavailableMemberHoldsNoSlots() {
        let lb = MaglevBalancer(endpoints: LB.endpoints(weights: [1, 1, 1]), tableSize: 1009)
        lb.updateAvailability([true, false, true])
        XCTAssertEqual(lb.slotCount(of: 1), 0)
        XCTAssertEqual(lb.slotCount(of: 0) + lb.slotCount(of: 2), 1009)
        lb.updateAvailability([false, false, false])
        XCTAssertEqual(lb.slotCount(of: 0), 0)
        XCTAssertNil(lb.pick(LoadBalancerContext(hashKey: 5)))
    }
}
