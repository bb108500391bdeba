import XCTest
@testable import HerzCore

/// The parser never traps: random mutations of a valid file either parse (and then print and
/// parse back, index and evaluate) or are refused with diagnostics that point inside the file.
final class FlowControlParserFuzzTests: XCTestCase {
    static let alphabet = Array(#"{}()[]",:.!&|=<>%/#\ "# + "\n\t" + "azAZ09_é✓-" + "ruleclustermatchlimitin")

    func testRandomMutationsNeverTrap() {
        var random = SplitMix64(seed: 0xF10C)
        let base = Array(FlowTest.example)
        var parsed = 0
        for iteration in 0..<3_000 {
            var text = base
            for _ in 0...random.next(below: 4) { mutate(&text, &random) }
            let source = String(text)
            do {
                let rules = try FlowRules.parse(source: source, file: "fuzz.flow")
                parsed += 1
                let reparsed = try FlowRules.parse(source: rules.description, file: "canonical.flow")
                XCTAssertEqual(reparsed.description, rules.description, "iteration \(iteration)")
                let index = FlowRuleIndex(rules)
                _ = index.matchingRules(FlowTest.request("POST", "/orders", headers: [("x-tenant", "a")]))
            } catch {
                let lines = source.split(separator: "\n", omittingEmptySubsequences: false).count
                XCTAssertFalse(error.diagnostics.isEmpty, "iteration \(iteration)")
                for diagnostic in error.diagnostics {
                    XCTAssertTrue((1...lines).contains(diagnostic.location.line) && diagnostic.location.column >= 1,
                                  "iteration \(iteration): \(diagnostic) outside the file:\n\(source)")
                }
            }
        }
        XCTAssertGreaterThan(parsed, 50, "mutations should leave some files valid")
    }

    func testHostileShapes() {
        let sources = [
            "rule", "rule \"", "rule \"a\"", "rule \"a\" {", "}", "{{{{", String(repeating: "[", count: 10_000),
            String(repeating: "rule \"a\" { match: ", count: 200), "rule \"a\" { match: " + String(repeating: "!(", count: 5_000),
            "cluster \"c\" { breaker: { error_rate > 99999999999999999999% over 99999999999999999999h } }",
            "rule \"a\" { match: true limit: { rate: 99999999999999999999/s, burst: 99999999999999999999 } }",
            "rule \"a\" { match: client_ip in [\"::ffff:1.2.3.4/200\", 1.2.3.4.5, \"1:2:3:4:5:6:7:8:9\", \":::\"] limit: { rate: 1/s } }",
            "rule \"a\" { match: path.matches(\"(((\") limit: { rate: 1/0s } }",
        ]
        for source in sources {
            XCTAssertThrowsError(try FlowRules.parse(source: source, file: "hostile.flow"), String(source.prefix(60))) { error in
                XCTAssertFalse((error as? FlowRulesError)?.diagnostics.isEmpty ?? true)
            }
        }
        for empty in ["", "\n\n", "# only a comment\n"] {
            XCTAssertEqual(try FlowRules.parse(source: empty, file: "empty.flow"), FlowRules(rules: [], clusters: []))
        }
    }

    private func mutate(_ text: inout [Character], _ random: inout SplitMix64) {
        guard !text.isEmpty else { text.append(Self.alphabet[0]); return }
        let position = Int(random.next(below: UInt64(text.count)))
        let length = min(text.count - position, Int(random.next(below: 8)) + 1)
        switch random.next(below: 4) {
        case 0: text.removeSubrange(position..<position + length)
        case 1: text.insert(Self.alphabet[Int(random.next(below: UInt64(Self.alphabet.count)))], at: position)
        case 2: text.insert(contentsOf: text[position..<position + length], at: Int(random.next(below: UInt64(text.count))))
        default: text[position] = Self.alphabet[Int(random.next(below: UInt64(Self.alphabet.count)))]
        }
    }
}
