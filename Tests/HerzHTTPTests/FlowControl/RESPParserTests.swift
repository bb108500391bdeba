import HerzCore
import NIOCore
import XCTest

@testable import HerzHTTP

/// RESP2 replies: every type, byte-by-byte arrival, the limits, and a fuzz run that feeds random
/// and mutated bytes and expects only values, "need more" or a ``RESPParseError`` — never a trap.
final class RESPParserTests: XCTestCase {
    private let parser = RESPParser()

    private func parse(_ text: String) throws -> (RESPValue?, left: Int) {
        var buffer = ByteBuffer(string: text)
        let value = try parser.parse(&buffer)
        return (value, buffer.readableBytes)
    }

    private func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

    func testEveryType() throws {
        XCTAssertEqual(try parse("+OK\r\n").0, .simpleString("OK"))
        XCTAssertEqual(try parse("-NOSCRIPT No matching script\r\n").0, .error("NOSCRIPT No matching script"))
        XCTAssertEqual(try parse(":-9223372036854775808\r\n").0, .integer(.min))
        XCTAssertEqual(try parse("$5\r\nhe\r\no\r\n").0, bulk("he\r\no"), "binary-safe")
        XCTAssertEqual(try parse("$0\r\n\r\n").0, bulk(""))
        XCTAssertEqual(try parse("$-1\r\n").0, .bulkString(nil))
        XCTAssertEqual(try parse("*-1\r\n").0, .array(nil))
        let reply = try parse("*3\r\n:4\r\n:0\r\n:12\r\n+next")
        XCTAssertEqual(reply.0?.integers, [4, 0, 12])
        XCTAssertEqual(reply.left, 5, "only the first value is taken")
        XCTAssertNil(try parse("*2\r\n:1\r\n$1\r\nx\r\n").0?.integers, "not all integers")
        XCTAssertEqual(try parse("*2\r\n*1\r\n+a\r\n$-1\r\n").0, .array([.array([.simpleString("a")]), .bulkString(nil)]))
    }

    func testIncompleteValuesLeaveTheBufferUntouchedAtEveryByte() throws {
        let text = "*3\r\n$40\r\n" + String(repeating: "f", count: 40) + "\r\n:-17\r\n*1\r\n+OK\r\n"
        let bytes = Array(text.utf8)
        for cut in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<cut])
            XCTAssertNil(try parser.parse(&buffer), "cut at \(cut)")
            XCTAssertEqual(buffer.readableBytes, cut)
        }
        var whole = ByteBuffer(bytes: bytes)
        XCTAssertEqual(try parser.parse(&whole), .array([bulk(String(repeating: "f", count: 40)), .integer(-17), .array([.simpleString("OK")])]))
    }

    func testMalformedRepliesAndLimitsAreErrors() {
        let cases: [(String, RESPParseError)] = [
            ("?\r\n", .unknownType(UInt8(ascii: "?"))),
            (":12a\r\n", .badInteger), (":\r\n", .badInteger), (":-\r\n", .badInteger),
            (":9223372036854775808\r\n", .badInteger), (":99999999999999999999\r\n", .badInteger),
            ("$-2\r\n", .badLength), ("*-5\r\n", .badLength),
            ("$3\r\nabcXY", .missingCRLF), ("+OK\n", .missingCRLF), ("\n", .unknownType(10)),
            ("$999999999\r\n", .tooLarge), ("*100000\r\n", .tooLarge),
            (String(repeating: "*1\r\n", count: 20) + ":1\r\n", .tooDeep),
            ("+" + String(repeating: "x", count: 5_000), .lineTooLong),
        ]
        for (text, expected) in cases {
            var buffer = ByteBuffer(string: text)
            XCTAssertThrowsError(try parser.parse(&buffer), text.debugDescription) { XCTAssertEqual($0 as? RESPParseError, expected, text.debugDescription) }
        }
        var limits = RESPParser.Limits()
        limits.maxReplyBytes = 64
        var endless = ByteBuffer(string: "*1000\r\n" + String(repeating: ":1\r\n", count: 30))
        XCTAssertThrowsError(try RESPParser(limits: limits).parse(&endless), "a reply that never ends is cut off")
    }

    func testFuzzedBytesNeverTrap() {
        var random = SplitMix64(seed: 0x2E5F)
        let seeds = ["*3\r\n:4\r\n:0\r\n:12\r\n", "$40\r\n" + String(repeating: "a", count: 40) + "\r\n", "-ERR x\r\n",
                     "*2\r\n*1\r\n$-1\r\n+OK\r\n", ":-1\r\n"].map { Array($0.utf8) }
        let alphabet = Array("*$:+-\r\n0123456789-x".utf8)
        var outcomes = (values: 0, more: 0, errors: 0)
        for _ in 0..<20_000 {
            var bytes = seeds[Int(random.next(below: UInt64(seeds.count)))]
            for _ in 0..<Int(random.next(below: 4)) + 1 {
                let position = Int(random.next(below: UInt64(bytes.count + 1)))
                switch random.next(below: 4) {
                case 0 where position < bytes.count: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.insert(alphabet[Int(random.next(below: UInt64(alphabet.count)))], at: position)
                case 2 where position < bytes.count: bytes.remove(at: position)
                default: bytes = Array(bytes.prefix(position))
                }
            }
            if random.next(below: 10) == 0 { bytes = (0..<Int(random.next(below: 64))).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
            var buffer = ByteBuffer(bytes: bytes)
            do {
                while buffer.readableBytes > 0, try parser.parse(&buffer) != nil { outcomes.values += 1 }
                outcomes.more += 1
            } catch {
                outcomes.errors += 1     // a RESPParseError: parse(_:) throws nothing else
            }
        }
        XCTAssertGreaterThan(outcomes.values, 1_000)
        XCTAssertGreaterThan(outcomes.errors, 1_000)
    }

    func testCommandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPCommand.write(["EVALSHA", "abc", "1", "k\u{1F}é"], into: &buffer)
        XCTAssertEqual(String(buffer: buffer), "*4\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$4\r\nk\u{1F}é\r\n")
    }
}
