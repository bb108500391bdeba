import XCTest
@testable import HerzCore

/// Every refused file reports each problem with its exact `line:col` and message.
final class FlowControlParserErrorTests: XCTestCase {
    /// `rule "a" { match: EXPR limit: { rate: 1/s } }`: EXPR starts at column 19.
    static func rule(match: String) -> String { #"rule "a" { match: "# + match + #" limit: { rate: 1/s } }"# }
    /// `rule "a" { match: true limit: { BODY } }`: BODY starts at column 33.
    static func rule(limit: String) -> String { #"rule "a" { match: true limit: { "# + limit + " } }" }
    /// `rule "a" { match: true limit: { rate: 1/s } on_limit: ACTION }`: ACTION starts at column 55.
    static func rule(onLimit: String) -> String { #"rule "a" { match: true limit: { rate: 1/s } on_limit: "# + onLimit + " }" }

    func check(_ source: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        let found = FlowTest.errors(source, file: file, line: line)
        XCTAssertEqual(found, expected, "source:\n\(source)", file: file, line: line)
    }

    func testMatchExpressionErrors() {
        check(Self.rule(match: #"methd == "GET""#),
              [#"1:19: unknown identifier 'methd' (did you mean 'method'?); known: method, path, host, client_ip, header, query, metadata, true, false"#])
        check(Self.rule(match: "method in 5"), [#"1:29: 'in' needs a list of strings, e.g. method in ["a", "b"], found number '5'"#])
        check(Self.rule(match: #"method == "get""#), [#"1:29: 'method' must be an upper-case HTTP method such as "GET", found "get""#])
        check(Self.rule(match: #"client_ip.startsWith("10.")"#),
              ["1:29: startsWith applies to strings, but client_ip is an IP address; use client_ip in 10.0.0.0/8"])
        check(Self.rule(match: #"method == "GET" == "POST""#),
              ["1:35: expected '&&', '||' or the end of the expression (comparisons do not chain), found '=='"])
        check(Self.rule(match: "method.exists()"), ["1:26: exists applies to header[…], query[…] and metadata[…]; method is always present"])
        check(Self.rule(match: "client_ip in 10.0.0.0/33"),
              [#"1:32: bad IP address or CIDR '10.0.0.0/33': write e.g. 10.0.0.0/8, 192.168.1.7 or "2001:db8::/32" (IPv6 in quotes)"#])
        check(Self.rule(match: #"path.matches("a(")"#), [#"1:32: bad regex "a(": does not compile"#])
        check(Self.rule(match: "error_rate > 5"), ["1:30: '>' is only used in a breaker condition (error_rate > 50% over 10s)"])
        check(Self.rule(match: "method"), [#"1:19: expected a condition, found method (a string); compare it, e.g. method == "GET""#])
        check(Self.rule(match: #"path.startWith("/a")"#),
              ["1:24: unknown method 'startWith' (did you mean 'startsWith'?); known: startsWith, endsWith, matches, exists"])
        check(Self.rule(match: #"header == "x""#), [#"1:19: header needs a name in brackets, e.g. header["x-tenant"]"#])
        check(Self.rule(match: #"path == 5"#), ["1:27: path is a string; compare it with a string in double quotes, found number '5'"])
        check(Self.rule(match: "method in []"), ["1:29: 'in []' is never true; list at least one value"])
        check(Self.rule(match: #"method == "GET" && path"#),
              [#"1:38: expected a condition, found path (a string); compare it, e.g. path.startsWith("/v1")"#])
    }

    func testAllOperandsOfAChainAreChecked() {
        check(Self.rule(match: #"methd == "GET" || path == 1 || hots == "a""#), [
            #"1:19: unknown identifier 'methd' (did you mean 'method'?); known: method, path, host, client_ip, header, query, metadata, true, false"#,
            "1:45: path is a string; compare it with a string in double quotes, found number '1'",
            #"1:50: unknown identifier 'hots' (did you mean 'host'?); known: method, path, host, client_ip, header, query, metadata, true, false"#,
        ])
    }

    func testLimitErrors() {
        check(Self.rule(limit: "rate: 100/x"), ["1:39: bad rate '100/x': write COUNT/UNIT, e.g. 100/s, 6000/m, 5/h or 10/250ms"])
        check(Self.rule(limit: "rate: 1/s, burst: 2x0"), ["1:51: bad number '2x0': expected a whole number"])
        check(Self.rule(limit: "rate: 1/s, brust: 5"),
              ["1:44: unknown key 'brust' in limit (did you mean 'burst'?); known keys: rate, burst, concurrency, key, scope, on_store_failure"])
        check(Self.rule(limit: "rate: 1/s, concurrency: 5"), ["1:44: 'rate' and 'concurrency' exclude each other; write one limit block for each"])
        check(Self.rule(limit: "concurrency: 5, burst: 3"), ["1:49: 'burst' is not allowed here: it applies to rate limits only"])
        check(Self.rule(limit: "concurrency: 5, scope: global, on_store_failure: allow"),
              ["1:49: 'scope' is not allowed here: concurrency limits are per kernel; only rate limits can be global"])
        check(Self.rule(limit: "rate: 1/s, scope: global"), ["1:44: limit with scope: global is missing required key 'on_store_failure'"])
        check(Self.rule(limit: "rate: 1/s, on_store_failure: allow"),
              ["1:44: 'on_store_failure' is not allowed here: it applies to limits with scope: global"])
        check(Self.rule(limit: "key: client_ip"), ["1:31: limit needs one of 'rate', 'concurrency'"])
        check(Self.rule(limit: "rate: 0/s"), ["1:39: 'rate' must be a count from 1 to 1000000000 per period, found 0/s"])
        check(Self.rule(limit: "rate: 1/s, burst: 0"), ["1:51: 'burst' must be from 1 to 1000000000, found 0"])
        check(Self.rule(limit: "rate: 1/s, scope: fleet"), ["1:51: 'scope' must be local or global, found identifier 'fleet'"])
        check(Self.rule(limit: "rate: 1/s, key: hedaer[\"x\"]"), ["1:49: only header, query and metadata take [\"name\"], found identifier 'hedaer'"])
        check(Self.rule(limit: "rate: 1/s, key: header[\"\"]"), ["1:56: header[…] needs a non-empty name in double quotes, found string \"\""])
        check(Self.rule(limit: "rate: 1/h, burst: 1000000000"),
              ["1:51: 'burst' must be smaller for so slow a rate (burst × period is too large to track), found 1000000000 with rate 1/h"])
    }

    func testOnLimitErrors() {
        check(Self.rule(onLimit: "delay(max: 200xs)"),
              ["1:66: bad duration '200xs': use a number with a unit: ns, us, ms, s, m, h (e.g. 250ms, 1.5s, 2m)"])
        check(Self.rule(onLimit: "reject(200)"), ["1:62: 'status' must be from 400 to 599, found 200"])
        check(Self.rule(onLimit: "rejct(429)"), ["1:55: unknown identifier 'rejct' (did you mean 'reject'?); known: reject, delay, shadow"])
        check(Self.rule(onLimit: "delay()"), ["1:55: delay(…) is missing required key 'max'"])
        check(Self.rule(onLimit: "reject(429, retry: auto)"), ["1:67: unknown key 'retry' in reject(…); known keys: retry_after"])
        check(Self.rule(onLimit: "reject(429, 503)"),
              ["1:67: expected 'key: value' (reject(…) takes 1 unlabeled value), found number '503'"])
        check(Self.rule(onLimit: "delay(max: 2m)"), ["1:66: 'max' must be from 1ms to 1m, found 2m"])
        check(Self.rule(onLimit: "5"), ["1:55: on_limit needs reject(…), delay(max: …) or shadow, found number '5'"])
    }

    func testRuleLevelErrors() {
        check(#"rule "a" { limit: { rate: 1/s } }"#, ["1:1: rule 'a' is missing required key 'match'"])
        check(#"rule "a" { match: true, limt: {} }"#, [
            "1:1: rule 'a' is missing required key 'limit'",
            "1:25: unknown key 'limt' in rule (did you mean 'limit'?); known keys: match, limit, on_limit",
        ])
        check(#"rule "a" { match: true match: false limit: { rate: 1/s } }"#, ["1:24: duplicate key 'match' in rule (first at 1:12)"])
        check("""
        rule "a" { match: true limit: { rate: 1/s } }
        rule "a" { match: true limit: { rate: 1/s } }
        """, ["2:6: duplicate rule name 'a' (first defined at rules.flow:1:6)"])
        check(#"rule "" { match: true limit: { rate: 1/s } }"#, [#"1:6: 'rule name' must be a non-empty string, found """#])
        check(#"rule "a" { match: true limit: 5 }"#, ["1:31: limit needs a block, e.g. limit: { rate: 100/s, key: client_ip }, found number '5'"])
        check(#"rule "a" { true limit: { rate: 1/s } }"#, [
            "1:1: rule 'a' is missing required key 'match'",
            "1:12: expected 'key: value' in rule, found identifier 'true'",
        ])
    }

    func testClusterErrors() {
        check(#"cluster "c" { }"#, ["1:1: cluster 'c' needs one of 'weight', 'breaker'"])
        check(#"cluster "c" { weight: dynamic(latency_p95) { base: 10, min: 20 } }"#, ["1:56: 'min' must be at most base (10), found 20"])
        check(#"cluster "c" { weight: dynamic(latency_p99) }"#,
              ["1:31: unknown identifier 'latency_p99' (did you mean 'latency_p95'?); known: latency_p95, error_rate"])
        check(#"cluster "c" { weight: dynamic(error_rate) { decay: 1.0 } }"#, ["1:52: 'decay' must be at least 0.0 and below 1.0, found 1.0"])
        check(#"cluster "c" { weight: 5 }"#, ["1:23: weight needs dynamic(latency_p95) or dynamic(error_rate), found number '5'"])
        check(#"cluster "c" { breaker: { error_rate > 150% over 10s } }"#, ["1:39: bad percentage '150%': write 0% to 100%, e.g. 50% or 12.5%"])
        check(#"cluster "c" { breaker: { error_rate > 50% } }"#,
              ["1:37: breaker needs a trip condition such as error_rate > 50% over 10s, found a '>' expression"])
        check(#"cluster "c" { breaker: { open_for: 5s } }"#, ["1:24: breaker needs a trip condition, e.g. error_rate > 50% over 10s"])
        check(#"cluster "c" { breaker: { latency > 50% over 10s } }"#, ["1:26: unknown identifier 'latency'; known: error_rate"])
        check(#"cluster "c" { breaker: { error_rate > 50% over 10s, open_for: 5x } }"#,
              ["1:63: bad duration '5x': use a number with a unit: ns, us, ms, s, m, h (e.g. 250ms, 1.5s, 2m)"])
        check(#"cluster "c" { breaker: { error_rate > 50% over 10s } } cluster "c" { weight: dynamic(error_rate) }"#,
              ["1:64: duplicate cluster name 'c' (first defined at rules.flow:1:9)"])
    }

    func testLexicalErrors() {
        check("""
        rule "a" {
          match: path == "/abc
          limit: { rate: 1/s }
        }
        """, [#"2:18: unterminated string (close it with " on the same line)"#])
        check(Self.rule(match: #"path == "a\qb""#), [#"1:29: invalid escape '\q' in string; use \\, \", \n or \t"#])
        check(#"rule "é" { match: methd == "GET" limit: { rate: 1/s } }"#,
              [#"1:19: unknown identifier 'methd' (did you mean 'method'?); known: method, path, host, client_ip, header, query, metadata, true, false"#])
        check(Self.rule(match: "path == 'a'"), [
            "1:27: unexpected character ''' (strings are written in double quotes)",
            "1:28: path is a string; compare it with a string in double quotes, found identifier 'a'",
            "1:29: unexpected character ''' (strings are written in double quotes)",
        ])
        check(Self.rule(match: #"method = "GET""#), [
            #"1:19: expected a condition, found method (a string); compare it, e.g. method == "GET""#,
            "1:26: unexpected character '=' (did you mean '==' or ':'?)",
            #"1:28: expected 'key: value' in rule, found string "GET""#,
        ])
    }

    func testSyntaxErrorsRecoverAtTheNextDeclaration() {
        check("""
        rule "a" {
          match: method == "GET" &&
          limit: { rate: 1/s }
        }
        rule "b" {
          match: methd == "GET"
          limit: { rate: 1/s }
        }
        rules "x" { }
        rule "c" { match: true limit: { rate: 1/x } }
        """, [
            "3:8: expected a value, found ':'",
            #"6:10: unknown identifier 'methd' (did you mean 'method'?); known: method, path, host, client_ip, header, query, metadata, true, false"#,
            "9:1: expected 'rule' or 'cluster', found identifier 'rules'",
            "10:39: bad rate '1/x': write COUNT/UNIT, e.g. 100/s, 6000/m, 5/h or 10/250ms",
        ])
        check("""
        rule "a" {
          match: true
          limit: { rate: 1/s }
        rule "b" { match: methd limit: { rate: 1/s } }
        """, [
            "4:1: expected '}' to close the block opened at 1:10, found identifier 'rule'",
            #"4:19: unknown identifier 'methd' (did you mean 'method'?); known: method, path, host, client_ip, header, query, metadata, true, false"#,
        ])
        check(#"rule a { }"#, ["1:6: expected the rule name in double quotes, found identifier 'a'"])
        check(#"rule "a" { match: true limit: { rate: 1/s }"#, ["1:44: expected '}' to close the block opened at 1:10, found end of file"])
    }

    func testNestingIsBounded() {
        let deep = String(repeating: "(", count: 100) + "true" + String(repeating: ")", count: 100)
        check(Self.rule(match: deep), ["1:83: expression nested too deeply (more than 64 levels)"])
        let negations = String(repeating: "!", count: 100) + "true"
        check(Self.rule(match: negations), ["1:82: expression nested too deeply (more than 64 levels)"])
        let chain = Array(repeating: "true", count: 600).joined(separator: " || ")
        XCTAssertEqual(FlowTest.errors(Self.rule(match: chain)).map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) },
                       ["expression nested too deeply (more than 512 levels)"])
    }
}
