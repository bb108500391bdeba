import XCTest
@testable import HerzCore

final class FlowControlRuleIndexTests: XCTestCase {
    private static func rule(_ name: String, _ match: FlowExpr) -> FlowRule {
        FlowRule(name: name, location: SourceLocation(file: "t", line: 1, column: 1), match: match,
                 limits: [FlowLimit(kind: .concurrency(1), key: FlowKey([]), location: SourceLocation(file: "t", line: 1, column: 1))],
                 onLimit: .shadow)
    }

    private static func method(_ name: String) -> FlowExpr { .predicate(.equals(.method, name)) }
    private static func prefix(_ path: String) -> FlowExpr { .predicate(.hasPrefix(.path, path)) }

    func testHintsAreNecessaryConditions() {
        let get = Self.method("GET"), post = Self.method("POST")
        XCTAssertEqual(FlowIndexHint(.all([get, Self.prefix("/a")])), FlowIndexHint(methods: ["GET"], prefixes: ["/a"]))
        XCTAssertEqual(FlowIndexHint(.any([get, post])), FlowIndexHint(methods: ["GET", "POST"], prefixes: nil))
        XCTAssertEqual(FlowIndexHint(.any([get, Self.prefix("/a")])), .anything)
        XCTAssertEqual(FlowIndexHint(.all([get, post])), FlowIndexHint(methods: [], prefixes: nil))
        XCTAssertEqual(FlowIndexHint(.all([Self.prefix("/a"), Self.prefix("/ab/c")])), FlowIndexHint(methods: nil, prefixes: ["/ab/c"]))
        XCTAssertEqual(FlowIndexHint(.any([Self.prefix("/a"), .predicate(.oneOf(.path, ["/x", "/y"]))])),
                       FlowIndexHint(methods: nil, prefixes: ["/a", "/x", "/y"]))
        XCTAssertEqual(FlowIndexHint(.not(get)), .anything)
        XCTAssertEqual(FlowIndexHint(.constant(false)), .nothing)
        XCTAssertEqual(FlowIndexHint(.predicate(.matches(.path, try! FlowRegex("/a.*", caseSensitive: true)))), .anything)
    }

    func testOnlyMatchesTheIndexProvesSkipEvaluation() {
        let get = Self.method("GET"), a = Self.prefix("/a")
        XCTAssertTrue(FlowIndexHint.isProvenByIndex(.all([get, a])))
        XCTAssertTrue(FlowIndexHint.isProvenByIndex(a))
        XCTAssertTrue(FlowIndexHint.isProvenByIndex(.constant(true)))
        XCTAssertTrue(FlowIndexHint.isProvenByIndex(.predicate(.oneOf(.method, ["GET", "PUT"]))))
        XCTAssertFalse(FlowIndexHint.isProvenByIndex(.all([a, Self.prefix("/ab")])), "the index files one of two prefixes")
        XCTAssertFalse(FlowIndexHint.isProvenByIndex(.predicate(.equals(.path, "/a"))), "exact paths are filed as prefixes")
        XCTAssertFalse(FlowIndexHint.isProvenByIndex(.any([get, a])))
        XCTAssertFalse(FlowIndexHint.isProvenByIndex(.all([get, .predicate(.exists(.header("x-a")))])))

        // Proven rules still match exactly what they say.
        let index = FlowRuleIndex(rules: [Self.rule("a", .all([get, a])), Self.rule("two", .all([a, Self.prefix("/ab")]))])
        XCTAssertEqual(index.matchingRules(FlowTest.request("GET", "/abc")).map(\.name), ["a", "two"])
        XCTAssertEqual(index.matchingRules(FlowTest.request("GET", "/a/c")).map(\.name), ["a"])
        XCTAssertEqual(index.matchingRules(FlowTest.request("POST", "/abc")).map(\.name), ["two"])
    }

    func testRequestsVisitOnlyTheirMethodAndPrefix() {
        var rules = (0..<1_000).map { Self.rule("r\($0)", .all([Self.method($0 % 2 == 0 ? "GET" : "POST"), Self.prefix("/svc\($0)/")])) }
        rules.append(Self.rule("everything", .constant(true)))
        rules.append(Self.rule("tenant", .predicate(.equals(.header("x-tenant"), "a"))))
        let index = FlowRuleIndex(rules: rules)
        var buffer: [Int] = []
        index.candidates(FlowTest.request("GET", "/svc42/orders"), into: &buffer)
        XCTAssertEqual(buffer, [42, 1_000, 1_001])
        index.matches(FlowTest.request("GET", "/svc42/orders"), into: &buffer)
        XCTAssertEqual(buffer, [42, 1_000])
        index.matches(FlowTest.request("POST", "/svc42/orders", headers: [("x-tenant", "a")]), into: &buffer)
        XCTAssertEqual(buffer, [1_000, 1_001])
        index.candidates(FlowTest.request("BREW", "/svc4"), into: &buffer)
        XCTAssertEqual(buffer, [1_000, 1_001])
    }

    func testUnreachableRulesAreNeverCandidates() {
        let index = FlowRuleIndex(rules: [
            Self.rule("never", .all([Self.method("GET"), Self.method("POST")])),
            Self.rule("false", .constant(false)),
            Self.rule("ok", Self.method("GET")),
        ])
        XCTAssertEqual(index.unreachable, [0, 1])
        XCTAssertEqual(index.matchingRules(FlowTest.request("GET")).map(\.name), ["ok"])
    }

    /// The index returns exactly what a linear scan returns, for random rules and requests.
    func testIndexEqualsLinearScanOnRandomRulesAndRequests() {
        var random = SplitMix64(seed: 0x1DE5)
        for round in 0..<40 {
            let rules = (0..<Int(random.next(below: 60)) + 1).map { Self.rule("r\($0)", RandomRules.expression(depth: 3, &random)) }
            let index = FlowRuleIndex(rules: rules)
            var buffer: [Int] = []
            for _ in 0..<250 {
                let request = RandomRules.request(&random)
                index.matches(request, into: &buffer)
                let linear = rules.indices.filter { rules[$0].match.evaluate(request) }
                XCTAssertEqual(buffer, linear, "round \(round): \(request.method) \(request.path)")
            }
        }
    }
}

/// A seeded generator of expressions and requests over a small vocabulary, so that random rules
/// and random requests often meet.
enum RandomRules {
    static let methods = ["GET", "POST", "PUT", "DELETE"]
    static let paths = ["", "/", "/a", "/a/", "/a/b", "/ab", "/b", "/a/b/c", "/b/a"]

    static func pick<T>(_ items: [T], _ random: inout SplitMix64) -> T { items[Int(random.next(below: UInt64(items.count)))] }

    static func some<T>(_ items: [T], _ random: inout SplitMix64) -> [T] {
        (0...random.next(below: 3)).map { _ in pick(items, &random) }
    }

    static func expression(depth: Int, _ random: inout SplitMix64) -> FlowExpr {
        if depth == 0 || random.next(below: 3) == 0 { return leaf(&random) }
        switch random.next(below: 3) {
        case 0: return .not(expression(depth: depth - 1, &random))
        case 1: return .all((0...random.next(below: 3)).map { _ in expression(depth: depth - 1, &random) })
        default: return .any((0...random.next(below: 3)).map { _ in expression(depth: depth - 1, &random) })
        }
    }

    static func leaf(_ random: inout SplitMix64) -> FlowExpr {
        switch random.next(below: 11) {
        case 0: return .predicate(.equals(.method, pick(methods, &random)))
        case 1: return .predicate(.oneOf(.method, some(methods, &random)))
        case 2: return .predicate(.equals(.path, pick(paths, &random)))
        case 3: return .predicate(.hasPrefix(.path, pick(paths, &random)))
        case 4: return .predicate(.oneOf(.path, some(paths, &random)))
        case 5: return .predicate(.hasSuffix(.path, pick(["b", "/", "a/b"], &random)))
        case 6: return .predicate(.equals(.host, pick(["x.com", "y.com"], &random)))
        case 7: return .predicate(.equals(.header("x-t"), pick(["1", "2"], &random)))
        case 8: return .predicate(.exists(.header("x-t")))
        case 9: return .constant(random.next(below: 2) == 0)
        default: return .predicate(.clientIPIn([FlowCIDR("10.0.0.0/8")].compactMap { $0 }))
        }
    }

    static func request(_ random: inout SplitMix64) -> FlowRequestValues {
        let path = pick(paths, &random) + pick(["", "b", "/c", "x"], &random)
        return FlowTest.request(pick(methods + ["PATCH"], &random), path.isEmpty ? "/" : path, host: pick(["x.com", "Y.com"], &random),
                                ip: pick(["10.1.1.1", "192.0.2.1"], &random),
                                headers: random.next(below: 2) == 0 ? [] : [("x-t", pick(["1", "2"], &random))])
    }
}
