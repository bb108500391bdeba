import NIOHTTP1
import XCTest

@testable import HerzCore

final class ProxyHeaderPolicyTests: XCTestCase {
    func testHopByHopHeadersAndConnectionListedOnesAreStripped() {
        let cases: [(in: [(String, String)], out: [(String, String)])] = [
            ([("connection", "keep-alive"), ("keep-alive", "timeout=5"), ("x-a", "1")], [("x-a", "1")]),
            ([("Connection", "x-secret, close"), ("X-Secret", "s"), ("x-b", "2")], [("x-b", "2")]),
            ([("transfer-encoding", "chunked"), ("upgrade", "h2c"), ("proxy-connection", "x")], []),
            ([("te", "trailers"), ("x-c", "3")], [("x-c", "3"), ("te", "trailers")]),
            ([("te", "gzip")], []),
            ([("proxy-authorization", "Basic x"), ("trailer", "grpc-status")], []),
            ([("TE", "gzip , trailers"), ("connection", " X-Y ,,close"), ("x-y", "1"), ("x-z", "2")], [("x-z", "2"), ("te", "trailers")]),
        ]
        for (input, expected) in cases {
            var headers = HTTPHeaders(input)
            ProxyHeaderPolicy.stripHopByHop(&headers)
            XCTAssertEqual(headers.map { "\($0.name.lowercased()):\($0.value)" }.sorted(),
                           expected.map { "\($0.0.lowercased()):\($0.1)" }.sorted(), "\(input)")
        }
    }

    func testUpstreamRequestGetsForwardingHeaders() {
        var headers = HTTPHeaders([("x-forwarded-for", "203.0.113.9"), ("expect", "100-continue"), ("via", "1.0 edge")])
        let id = ProxyHeaderPolicy.prepareUpstreamRequest(&headers, clientAddress: "10.0.0.1", scheme: "https", requestID: "rid")
        XCTAssertEqual(id, "rid")
        XCTAssertEqual(headers["x-forwarded-for"], ["203.0.113.9, 10.0.0.1"])
        XCTAssertEqual(headers["x-forwarded-proto"], ["https"])
        XCTAssertEqual(headers["via"], ["1.0 edge, 1.1 herz"])
        XCTAssertEqual(headers["x-request-id"], ["rid"])
        XCTAssertFalse(headers.contains(name: "expect"))
    }

    func testExistingRequestIDIsKept() {
        var headers = HTTPHeaders([("x-request-id", "abc")])
        XCTAssertEqual(ProxyHeaderPolicy.prepareUpstreamRequest(&headers, clientAddress: nil, scheme: "http", requestID: "new"), "abc")
        XCTAssertEqual(headers["x-request-id"], ["abc"])
        XCTAssertFalse(headers.contains(name: "x-forwarded-for"))
    }

    func testDownstreamResponseGetsViaAndLosesHopByHop() {
        var headers = HTTPHeaders([("connection", "close"), ("content-length", "3")])
        ProxyHeaderPolicy.prepareDownstreamResponse(&headers)
        XCTAssertEqual(headers["via"], ["1.1 herz"])
        XCTAssertFalse(headers.contains(name: "connection"))
        XCTAssertEqual(headers["content-length"], ["3"])
    }

    func testMutationsRemoveThenAddAppendOrReplace() {
        var headers = HTTPHeaders([("a", "1"), ("b", "2"), ("c", "3")])
        ProxyHeaderPolicy.apply(HeaderMutations(add: [HeaderValueOption(name: "a", value: "x", append: false),
                                                      HeaderValueOption(name: "b", value: "y")],
                                                remove: ["c"]), to: &headers)
        XCTAssertEqual(headers["a"], ["x"])
        XCTAssertEqual(headers["b"], ["2", "y"])
        XCTAssertFalse(headers.contains(name: "c"))
    }

    func testRequestIDsAreUUIDShapedAndDistinct() {
        let ids = (0..<1000).map { _ in RequestID.make() }
        XCTAssertEqual(Set(ids).count, 1000)
        for id in ids.prefix(20) {
            XCTAssertEqual(id.count, 36)
            XCTAssertEqual(id.split(separator: "-").map(\.count), [8, 4, 4, 4, 12])
        }
    }
}
