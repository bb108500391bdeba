import XCTest
@testable import HerzHTTP
final class PlaceholderHTTPTests: XCTestCase { func testBuilds() {} }
