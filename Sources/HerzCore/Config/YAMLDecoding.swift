import Foundation
import NIOCore
import Yams

/// Walks a composed YAML tree for ``ConfigLoader``: typed reads that record an error (with the
/// node's `file:line:col`) and return `nil` instead of throwing, so one run reports every problem.
/// Used on one thread during a load; not shared.
final class ConfigDecodingContext {
    let source: String
    private(set) var errors: [ConfigError] = []
    /// Coprocessor names used by `coproc` and `jwt_authn` filters, checked against `coprocessors:`
    /// at the end.
    var coprocessorReferences: [CoprocessorReference] = []
    /// `requirement_name`s of routes' `per_filter_config.jwt_authn`, checked by ``ListenerDecoder``
    /// against the listener's `jwt_authn` filters once its router is decoded.
    var jwtRequirementReferences: [JWTRequirementReference] = []
    /// Coprocessors defined outside the file (`--coproc` flags).
    var extraCoprocessors: [CoprocessorConfig] = []

    init(source: String) { self.source = source }

    func location(_ mark: Mark?) -> SourceLocation {
        SourceLocation(file: source, line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    func report(_ kind: ConfigError.Kind, at node: Node?) { report(kind, at: node?.mark) }

    func report(_ kind: ConfigError.Kind, at mark: Mark?) { errors.append(ConfigError(kind, at: location(mark))) }

    /// A problem of the flow-rules file, at its own position in that file.
    func report(flow diagnostic: FlowDiagnostic) { errors.append(ConfigError(.flowRules(diagnostic), at: diagnostic.location)) }

    /// A mapping whose keys must all be in `known`; `required` keys missing are reported at the
    /// mapping. Returns `nil` (after reporting) when `node` is not a mapping.
    func map(_ node: Node, _ what: String, known: [String], required: [String] = []) -> YAMLMap? {
        guard case .mapping(let mapping) = node else {
            report(.wrongType(field: what, expected: "a mapping", found: Self.describe(node)), at: node)
            return nil
        }
        var entries: [YAMLMap.Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(.wrongType(field: what, expected: "string keys", found: Self.describe(keyNode)), at: keyNode)
                continue
            }
            guard known.contains(scalar.string) else {
                report(.unknownField(field: scalar.string, in: what, known: known), at: keyNode)
                continue
            }
            entries.append(.init(key: scalar.string, keyNode: keyNode, value: value))
        }
        for key in required where !entries.contains(where: { $0.key == key }) {
            report(.missingField(field: key, in: what), at: node)
        }
        return YAMLMap(node: node, what: what, entries: entries, context: self)
    }

    /// The entries of a mapping whose keys are names chosen by the user (providers, requirement
    /// names): string keys in source order. Reports a non-mapping or a non-string key.
    func namedEntries(_ node: Node, _ what: String) -> [YAMLMap.Entry]? {
        guard case .mapping(let mapping) = node else {
            report(.wrongType(field: what, expected: "a mapping", found: Self.describe(node)), at: node)
            return nil
        }
        return mapping.compactMap { keyNode, value in
            guard let name = nonEmptyString(keyNode, "\(what) key") else { return nil }
            return YAMLMap.Entry(key: name, keyNode: keyNode, value: value)
        }
    }

    /// The items of a sequence, or `nil` (after reporting) when `node` is not one.
    func list(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report(.wrongType(field: what, expected: "a list", found: Self.describe(node)), at: node)
            return nil
        }
        return Array(sequence)
    }

    func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node, !Self.isTagged(node, .null) else {
            report(.wrongType(field: what, expected: "a string", found: Self.describe(node)), at: node)
            return nil
        }
        return scalar.string
    }

    func nonEmptyString(_ node: Node, _ what: String) -> String? {
        guard let value = string(node, what) else { return nil }
        if value.isEmpty { report(.invalidValue(field: what, value: value, reason: "must not be empty"), at: node); return nil }
        return value
    }

    func int(_ node: Node, _ what: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let scalar) = node else {
            report(.wrongType(field: what, expected: "an integer", found: Self.describe(node)), at: node)
            return nil
        }
        let value = Self.isTagged(node, .int) ? Int.construct(from: scalar) : Int(scalar.string)
        guard let value else {
            report(.wrongType(field: what, expected: "an integer", found: Self.describe(node)), at: node)
            return nil
        }
        if let range, !range.contains(value) {
            let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
            report(.invalidValue(field: what, value: scalar.string, reason: "must be \(bound)"), at: node)
            return nil
        }
        return value
    }

    func bool(_ node: Node, _ what: String) -> Bool? {
        if case .scalar(let scalar) = node {
            switch scalar.string.lowercased() {
            case "true": return true
            case "false": return false
            default: break
            }
        }
        report(.wrongType(field: what, expected: "true or false", found: Self.describe(node)), at: node)
        return nil
    }

    func duration(_ node: Node, _ what: String, allowZero: Bool = true) -> TimeAmount? {
        guard let text = string(node, what) else { return nil }
        guard let value = DurationParser.parse(text) else {
            report(.invalidValue(field: what, value: text, reason: DurationParser.hint), at: node)
            return nil
        }
        if !allowZero, value <= .zero {
            report(.invalidValue(field: what, value: text, reason: "must be greater than zero"), at: node)
            return nil
        }
        return value
    }

    func byteSize(_ node: Node, _ what: String) -> Int? {
        guard let text = string(node, what) else { return nil }
        guard let value = ByteSizeParser.parse(text), value > 0 else {
            report(.invalidValue(field: what, value: text, reason: ByteSizeParser.hint + ", greater than zero"), at: node)
            return nil
        }
        return value
    }

    func hostPort(_ node: Node, _ what: String, allowPortZero: Bool = false) -> HostPort? {
        guard let text = string(node, what) else { return nil }
        switch HostPort.parse(text, allowPortZero: allowPortZero) {
        case .success(let value): return value
        case .failure(let error):
            report(.invalidValue(field: what, value: text, reason: error.reason), at: node)
            return nil
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ what: String, as: T.Type) -> T? where T.RawValue == String {
        guard let text = string(node, what) else { return nil }
        guard let value = T(rawValue: text) else {
            let known = T.allCases.map(\.rawValue).joined(separator: ", ")
            report(.invalidValue(field: what, value: text, reason: "must be one of \(known)"), at: node)
            return nil
        }
        return value
    }

    func stringMap(_ node: Node, _ what: String) -> [String: String]? {
        guard case .mapping(let mapping) = node else {
            report(.wrongType(field: what, expected: "a mapping of strings", found: Self.describe(node)), at: node)
            return nil
        }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            guard let key = string(key, what), let value = string(value, "\(what).\(key)") else { continue }
            result[key] = value
        }
        return result
    }

    func stringList(_ node: Node, _ what: String) -> [String]? {
        guard let items = list(node, what) else { return nil }
        return items.compactMap { nonEmptyString($0, what) }
    }

    /// `true` when `node` resolves to the YAML tag `name` (Yams keeps `Tag.name` internal).
    static func isTagged(_ node: Node, _ name: Tag.Name) -> Bool { node.tag.rawValue == name.rawValue }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return "null"
            case .int: return "the integer \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            case .float: return "the number \(scalar.string)"
            default: return "the string '\(scalar.string)'"
            }
        }
    }
}

/// A checked YAML mapping: only known keys, in source order. Typed getters return `nil` when the
/// key is absent or its value is invalid (the latter is reported).
struct YAMLMap {
    struct Entry { var key: String; var keyNode: Node; var value: Node }
    let node: Node
    let what: String
    let entries: [Entry]
    let context: ConfigDecodingContext

    var mark: Mark? { node.mark }
    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }
    subscript(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
    func keyNode(_ key: String) -> Node? { entries.first { $0.key == key }?.keyNode }
    func field(_ key: String) -> String { what == "config" ? key : "\(what).\(key)" }

    func string(_ key: String) -> String? { self[key].flatMap { context.nonEmptyString($0, field(key)) } }
    func int(_ key: String, range: ClosedRange<Int>? = nil) -> Int? { self[key].flatMap { context.int($0, field(key), range: range) } }
    func bool(_ key: String) -> Bool? { self[key].flatMap { context.bool($0, field(key)) } }
    func duration(_ key: String, allowZero: Bool = true) -> TimeAmount? {
        self[key].flatMap { context.duration($0, field(key), allowZero: allowZero) }
    }
    func byteSize(_ key: String) -> Int? { self[key].flatMap { context.byteSize($0, field(key)) } }
    func hostPort(_ key: String, allowPortZero: Bool = false) -> HostPort? {
        self[key].flatMap { context.hostPort($0, field(key), allowPortZero: allowPortZero) }
    }
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, as type: T.Type) -> T? where T.RawValue == String {
        self[key].flatMap { context.choice($0, field(key), as: type) }
    }
    func stringMap(_ key: String) -> [String: String]? { self[key].flatMap { context.stringMap($0, field(key)) } }
    func stringList(_ key: String) -> [String]? { self[key].flatMap { context.stringList($0, field(key)) } }
    func list(_ key: String) -> [Node]? { self[key].flatMap { context.list($0, field(key)) } }
    func map(_ key: String, known: [String], required: [String] = []) -> YAMLMap? {
        self[key].flatMap { context.map($0, field(key), known: known, required: required) }
    }

    /// Reports unless exactly one of `keys` is present; returns the one present.
    func exactlyOne(of keys: [String]) -> String? {
        let present = keys.filter(has)
        guard present.count == 1 else {
            let at = present.count > 1 ? keyNode(present[1])?.mark : mark
            context.report(.exactlyOneOf(fields: keys, in: what), at: at)
            return nil
        }
        return present[0]
    }

    /// Reports when more than one of `keys` is present; returns the present one, if any.
    func atMostOne(of keys: [String]) -> String? {
        let present = keys.filter(has)
        if present.count > 1 {
            context.report(.exactlyOneOf(fields: keys, in: what), at: keyNode(present[1])?.mark)
            return nil
        }
        return present.first
    }
}
