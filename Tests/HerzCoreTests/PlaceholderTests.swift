import XCTest
@testable import HerzCore
final class PlaceholderCoreTests: XCTestCase { func testBuilds() {} }
