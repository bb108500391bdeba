/// Splits a flow-rules source into ``FlowToken``s. Hand-written (no parser-combinator or
/// lexer-generator package is available offline, and the language is small enough that a
/// hand-written scanner gives better positions and messages).
///
/// Never fails and never traps: an unexpected character or a broken string is reported as a
/// ``FlowDiagnostic`` and scanning goes on, so one run reports every lexical problem. The token
/// list always ends with `.endOfFile`.
struct FlowLexer {
    private let bytes: [UInt8]
    private let file: String
    private var offset = 0
    private var line = 1
    private var column = 1
    private(set) var diagnostics: [FlowDiagnostic] = []

    init(source: String, file: String) {
        self.bytes = Array(source.utf8)
        self.file = file
    }

    /// Scans the whole source.
    mutating func tokenize() -> [FlowToken] {
        var tokens: [FlowToken] = []
        while true {
            skipSpaceAndComments()
            let start = location
            guard let byte = peek() else {
                tokens.append(FlowToken(kind: .endOfFile, location: start))
                return tokens
            }
            if let kind = scanToken(startingWith: byte, at: start) {
                tokens.append(FlowToken(kind: kind, location: start))
            }
        }
    }

    // MARK: - Token kinds

    private mutating func scanToken(startingWith byte: UInt8, at start: SourceLocation) -> FlowToken.Kind? {
        if Self.isIdentifierStart(byte) {
            return .identifier(take(while: Self.isIdentifierPart))
        }
        if Self.isDigit(byte) {
            return .number(take(while: Self.isNumberPart))
        }
        if byte == UInt8(ascii: "\"") {
            return .string(scanString(at: start))
        }
        if let symbol = scanSymbol() {
            return .symbol(symbol)
        }
        let character = takeCharacter()
        diagnostics.append(FlowDiagnostic(.unexpectedCharacter(character, hint: Self.hint(for: character)), at: start))
        return nil
    }

    /// Two-character operators first, so `==` never lexes as two `=`.
    private mutating func scanSymbol() -> FlowSymbol? {
        if let next = peek(1) {
            let pair = String(decoding: [bytes[offset], next], as: UTF8.self)
            if let symbol = FlowSymbol(rawValue: pair) {
                advance(); advance()
                return symbol
            }
        }
        guard let single = FlowSymbol(rawValue: String(decoding: [bytes[offset]], as: UTF8.self)) else { return nil }
        advance()
        return single
    }

    /// A `"…"` literal with `\\ \" \n \t` escapes; stops at the end of the line when unterminated.
    private mutating func scanString(at start: SourceLocation) -> String {
        advance() // opening quote
        var value: [UInt8] = []
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "\n"):
                diagnostics.append(FlowDiagnostic(.unterminatedString, at: start))
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escapeStart = location
                advance()
                guard let escaped = peek(), escaped != UInt8(ascii: "\n") else { continue }
                switch escaped {
                case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(escaped)
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                default:
                    let character = takeCharacter()
                    diagnostics.append(FlowDiagnostic(.invalidEscape("\\" + character), at: escapeStart))
                    value.append(contentsOf: character.utf8)
                    continue
                }
                advance()
            default:
                value.append(byte)
                advance()
            }
        }
        diagnostics.append(FlowDiagnostic(.unterminatedString, at: start))
        return String(decoding: value, as: UTF8.self)
    }

    // MARK: - Cursor

    private var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        offset + ahead < bytes.count ? bytes[offset + ahead] : nil
    }

    /// Moves one byte on; columns count Unicode scalars, so UTF-8 continuation bytes add none.
    private mutating func advance() {
        guard offset < bytes.count else { return }
        let byte = bytes[offset]
        offset += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    private mutating func take(while predicate: (UInt8) -> Bool) -> String {
        let start = offset
        while let byte = peek(), predicate(byte) { advance() }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    /// One whole (possibly multi-byte) character, for messages.
    private mutating func takeCharacter() -> String {
        let start = offset
        advance()
        while let byte = peek(), byte & 0xC0 == 0x80 { advance() }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    private mutating func skipSpaceAndComments() {
        while let byte = peek() {
            if byte == UInt8(ascii: "#") {
                while let next = peek(), next != UInt8(ascii: "\n") { advance() }
            } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                advance()
            } else {
                return
            }
        }
    }

    // MARK: - Character classes

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool { isLetter(byte) || byte == UInt8(ascii: "_") }

    private static func isIdentifierPart(_ byte: UInt8) -> Bool { isIdentifierStart(byte) || isDigit(byte) }

    /// A number runs on through letters, digits, `.`, `%` and `/`: `1.5s`, `50%`, `100/s`, `10.0.0.0/8`.
    private static func isNumberPart(_ byte: UInt8) -> Bool {
        isIdentifierPart(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "/")
    }

    private static func hint(for character: String) -> String? {
        switch character {
        case "&": return "did you mean '&&'?"
        case "|": return "did you mean '||'?"
        case "=": return "did you mean '==' or ':'?"
        case "'": return "strings are written in double quotes"
        default: return nil
        }
    }
}
