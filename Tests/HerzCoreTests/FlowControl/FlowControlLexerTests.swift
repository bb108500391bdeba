import XCTest
@testable import HerzCore

final class FlowControlLexerTests: XCTestCase {
    private func tokens(_ source: String) -> (kinds: [FlowToken.Kind], positions: [String], errors: [String]) {
        var lexer = FlowLexer(source: source, file: "t")
        let tokens = lexer.tokenize()
        return (tokens.map(\.kind), tokens.map { "\($0.location.line):\($0.location.column)" },
                lexer.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" })
    }

    func testTokenKindsAndPositions() {
        let result = tokens("rule \"a b\" {\n  match: !x.y(1.5s, 50%, 100/s, 10.0.0.0/8) >= <= == != && || < > in # c\n}")
        XCTAssertEqual(result.kinds, [
            .identifier("rule"), .string("a b"), .symbol(.leftBrace),
            .identifier("match"), .symbol(.colon), .symbol(.not), .identifier("x"), .symbol(.dot), .identifier("y"), .symbol(.leftParen),
            .number("1.5s"), .symbol(.comma), .number("50%"), .symbol(.comma), .number("100/s"), .symbol(.comma), .number("10.0.0.0/8"),
            .symbol(.rightParen), .symbol(.greaterOrEqual), .symbol(.lessOrEqual), .symbol(.equal), .symbol(.notEqual),
            .symbol(.and), .symbol(.or), .symbol(.less), .symbol(.greater), .identifier("in"),
            .symbol(.rightBrace), .endOfFile,
        ])
        XCTAssertEqual(result.positions.prefix(6), ["1:1", "1:6", "1:12", "2:3", "2:8", "2:10"])
        XCTAssertEqual(result.positions.last, "3:2")
        XCTAssertEqual(result.errors, [])
    }

    func testEscapesAndUnicodeColumns() {
        let result = tokens(#""a\"b\\c\nd\te" "é✓" x"#)
        XCTAssertEqual(result.kinds, [.string("a\"b\\c\nd\te"), .string("é✓"), .identifier("x"), .endOfFile])
        XCTAssertEqual(result.positions, ["1:1", "1:17", "1:22", "1:23"])
    }

    func testErrorsDoNotStopScanning() {
        let result = tokens("a @ b \"open\nc ` d")
        XCTAssertEqual(result.kinds, [.identifier("a"), .identifier("b"), .string("open"), .identifier("c"), .identifier("d"), .endOfFile])
        XCTAssertEqual(result.errors, [
            "1:3: unexpected character '@'",
            "1:7: unterminated string (close it with \" on the same line)",
            "2:3: unexpected character '`'",
        ])
    }

    func testCarriageReturnsAreSpace() {
        XCTAssertEqual(tokens("a\r\nb").kinds, [.identifier("a"), .identifier("b"), .endOfFile])
        XCTAssertEqual(tokens("a\r\nb").positions, ["1:1", "2:1", "2:2"])
    }
}
