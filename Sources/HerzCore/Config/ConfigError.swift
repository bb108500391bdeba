/// A position in a config source: `file:line:col` (1-based; `line == 0` when unknown).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) { self.file = file; self.line = line; self.column = column }
    public var description: String { line > 0 ? "\(file):\(line):\(column)" : file }
}

/// One problem found in a config, with where it is. Each ``Kind`` is a failure the user can fix.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file could not be read.
        case unreadable(reason: String)
        /// The text is not valid YAML.
        case yamlSyntax(String)
        /// A key appears twice in one mapping.
        case duplicateKey(String)
        /// A value has the wrong YAML shape (e.g. a string where a mapping is expected).
        case wrongType(field: String, expected: String, found: String)
        case missingField(field: String, in: String)
        /// A key that the section does not know (typos are errors, never ignored).
        case unknownField(field: String, in: String, known: [String])
        /// Exactly one of these fields must be given.
        case exactlyOneOf(fields: [String], in: String)
        /// The value is of the right type but not acceptable.
        case invalidValue(field: String, value: String, reason: String)
        /// Two things that must be unique share a name (`first` is where the earlier one is).
        case duplicate(what: String, name: String, first: SourceLocation?)
        /// A route names a cluster that is not defined.
        case unknownCluster(String)
        /// A `coproc` (or `jwt_authn`) filter names a coprocessor that neither `coprocessors:` nor a
        /// flag defines.
        case unknownCoprocessor(String, known: [String], filter: String = "coproc")
        case unknownFilterType(String, known: [String])
        /// The listener's filter list does not end with `type: router`.
        case routerNotLast
        case missingRouter
        case invalidRegex(pattern: String, reason: String)
        /// A path in the config (TLS cert/key) names no readable file.
        case fileNotFound(field: String, path: String)
        /// A problem in the flow-rules file named by `flow_control.rules`; the error's location is
        /// in that file.
        case flowRules(FlowDiagnostic)
    }

    public var location: SourceLocation
    public var kind: Kind

    public init(_ kind: Kind, at location: SourceLocation) { self.kind = kind; self.location = location }

    public var message: String {
        switch kind {
        case .unreadable(let reason): return "cannot read config: \(reason)"
        case .yamlSyntax(let text): return "YAML syntax error: \(text)"
        case .duplicateKey(let key): return "duplicate key '\(key)'"
        case .wrongType(let field, let expected, let found): return "\(field): expected \(expected), found \(found)"
        case .missingField(let field, let section): return "\(section): missing required field '\(field)'"
        case .unknownField(let field, let section, let known):
            var text = "\(section): unknown field '\(field)'"
            if let guess = Self.closest(to: field, in: known) { text += " (did you mean '\(guess)'?)" }
            return text + "; known fields: \(known.joined(separator: ", "))"
        case .exactlyOneOf(let fields, let section):
            return "\(section): exactly one of \(fields.map { "'\($0)'" }.joined(separator: ", ")) must be given"
        case .invalidValue(let field, let value, let reason): return "\(field): invalid value '\(value)': \(reason)"
        case .duplicate(let what, let name, let first):
            return "duplicate \(what) '\(name)'" + (first.map { " (first defined at \($0))" } ?? "")
        case .unknownCluster(let name): return "route names unknown cluster '\(name)'"
        case .unknownCoprocessor(let name, let known, let filter):
            let list = known.isEmpty ? "none are defined (add it to 'coprocessors:' or pass --coproc \(name)=unix:PATH)"
                                     : "known coprocessors: \(known.joined(separator: ", "))"
            return "\(filter) filter names unknown coprocessor '\(name)'; \(list)"
        case .unknownFilterType(let type, let known):
            return "unknown filter type '\(type)'; known types: \(known.joined(separator: ", "))"
        case .routerNotLast: return "filter 'router' must be the last filter of a listener"
        case .missingRouter: return "listener has no 'router' filter; the last filter must be 'type: router'"
        case .invalidRegex(let pattern, let reason): return "invalid regex '\(pattern)': \(reason)"
        case .fileNotFound(let field, let path): return "\(field): file '\(path)' does not exist or is not readable"
        case .flowRules(let diagnostic): return diagnostic.message
        }
    }

    /// `file:line:col: message`.
    public var description: String { "\(location): \(message)" }

    /// A known name within edit distance 2 of `word`, for "did you mean" hints.
    static func closest(to word: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(Array(word.utf8), Array(candidate.utf8))
            if distance <= 2, best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        return best?.0
    }

    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// Every problem found in one config, in source order. Thrown by ``ConfigLoader``; its description
/// is one `file:line:col: message` line per error, ready for a terminal or a log.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
