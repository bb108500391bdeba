/// One problem found in a flow-rules file, with where it is (`file:line:col`, 1-based, columns
/// counted in Unicode scalars). Each ``Kind`` is a failure the author can fix; ``description`` is
/// the line printed by `herz-kernel --check` and logged on a rejected reload.
public struct FlowDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A character that starts no token (`hint` suggests the likely intent, e.g. `&&` for `&`).
        case unexpectedCharacter(String, hint: String?)
        /// A string literal that does not end with `"` on its line.
        case unterminatedString
        /// A backslash sequence other than `\\`, `\"`, `\n`, `\t`.
        case invalidEscape(String)
        /// The grammar wanted `expected` here and found `found` (a token description).
        case expected(String, found: String)
        /// A block still open when the next `rule`/`cluster` or the end of file came.
        case unclosedBlock(opened: SourceLocation, found: String)
        /// A name in an expression that is no request attribute, constant or keyword value.
        case unknownIdentifier(String, known: [String])
        /// A `.name(…)` call that does not exist on that attribute.
        case unknownMethod(String, known: [String])
        /// A key a block does not have (typos are errors, never ignored).
        case unknownKey(String, block: String, known: [String])
        /// A required key is absent; `block` names the block (`rule 'orders'`).
        case missingKey(String, block: String)
        /// None of several alternative keys is present.
        case missingOneOf([String], block: String)
        /// A key that may appear once appears again.
        case duplicateKey(String, block: String, first: SourceLocation)
        /// Two keys that exclude each other; `advice` says what to write instead.
        case conflictingKeys(String, String, advice: String)
        /// A key that is valid in the block but not with the other keys given.
        case keyNotAllowed(String, reason: String)
        /// Two rules (or two clusters) with one name.
        case duplicateName(what: String, name: String, first: SourceLocation)
        /// A value of the wrong type; the message says what was needed and what was found.
        case wrongType(String)
        case invalidDuration(String)
        case invalidNumber(String, expected: String)
        case invalidRate(String)
        case invalidPercentage(String)
        case invalidAddress(String)
        case invalidRegex(pattern: String, reason: String)
        /// A well-formed value outside what the key accepts.
        case outOfRange(key: String, value: String, accepted: String)
        /// Parentheses, lists, blocks or `!` nested deeper than the parser follows (a guard against
        /// stack exhaustion on hostile input; real rules nest a few levels).
        case nestingTooDeep(limit: Int)
        /// A `cluster "…"` block naming no cluster of the YAML config (checked at config load).
        case unknownCluster(String, known: [String])
    }

    public var location: SourceLocation
    public var kind: Kind

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    public var message: String {
        switch kind {
        case .unexpectedCharacter(let character, let hint):
            return "unexpected character '\(character)'" + (hint.map { " (\($0))" } ?? "")
        case .unterminatedString:
            return "unterminated string (close it with \" on the same line)"
        case .invalidEscape(let escape):
            return "invalid escape '\(escape)' in string; use \\\\, \\\", \\n or \\t"
        case .expected(let what, let found):
            return "expected \(what), found \(found)"
        case .unclosedBlock(let opened, let found):
            return "expected '}' to close the block opened at \(opened.line):\(opened.column), found \(found)"
        case .unknownIdentifier(let name, let known):
            return "unknown identifier '\(name)'" + Self.suggestion(for: name, in: known) + "; known: \(known.joined(separator: ", "))"
        case .unknownMethod(let name, let known):
            return "unknown method '\(name)'" + Self.suggestion(for: name, in: known) + "; known: \(known.joined(separator: ", "))"
        case .unknownKey(let key, let block, let known):
            return "unknown key '\(key)' in \(block)" + Self.suggestion(for: key, in: known) + "; known keys: \(known.joined(separator: ", "))"
        case .missingKey(let key, let block):
            return "\(block) is missing required key '\(key)'"
        case .missingOneOf(let keys, let block):
            return "\(block) needs one of \(keys.map { "'\($0)'" }.joined(separator: ", "))"
        case .duplicateKey(let key, let block, let first):
            return "duplicate key '\(key)' in \(block) (first at \(first.line):\(first.column))"
        case .conflictingKeys(let first, let second, let advice):
            return "'\(first)' and '\(second)' exclude each other; \(advice)"
        case .keyNotAllowed(let key, let reason):
            return "'\(key)' is not allowed here: \(reason)"
        case .duplicateName(let what, let name, let first):
            return "duplicate \(what) name '\(name)' (first defined at \(first))"
        case .wrongType(let text):
            return text
        case .invalidDuration(let text):
            return "bad duration '\(text)': \(DurationParser.hint)"
        case .invalidNumber(let text, let expected):
            return "bad number '\(text)': expected \(expected)"
        case .invalidRate(let text):
            return "bad rate '\(text)': write COUNT/UNIT, e.g. 100/s, 6000/m, 5/h or 10/250ms"
        case .invalidPercentage(let text):
            return "bad percentage '\(text)': write 0% to 100%, e.g. 50% or 12.5%"
        case .invalidAddress(let text):
            return "bad IP address or CIDR '\(text)': write e.g. 10.0.0.0/8, 192.168.1.7 or \"2001:db8::/32\" (IPv6 in quotes)"
        case .invalidRegex(let pattern, let reason):
            return "bad regex \"\(pattern)\": \(reason)"
        case .outOfRange(let key, let value, let accepted):
            return "'\(key)' must be \(accepted), found \(value)"
        case .nestingTooDeep(let limit):
            return "expression nested too deeply (more than \(limit) levels)"
        case .unknownCluster(let name, let known):
            let list = known.isEmpty ? "the config defines no clusters" : "known clusters: \(known.joined(separator: ", "))"
            return "cluster '\(name)' is not defined in the config" + Self.suggestion(for: name, in: known) + "; \(list)"
        }
    }

    /// `file:line:col: message`.
    public var description: String { "\(location): \(message)" }

    private static func suggestion(for word: String, in known: [String]) -> String {
        ConfigError.closest(to: word, in: known).map { " (did you mean '\($0)'?)" } ?? ""
    }
}

/// Every problem found in one flow-rules file, in source order; thrown by ``FlowRules/parse(source:file:)``.
/// Its description is one `file:line:col: message` line per diagnostic.
public struct FlowRulesError: Error, Sendable, Equatable, CustomStringConvertible {
    public var diagnostics: [FlowDiagnostic]

    public init(_ diagnostics: [FlowDiagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
