import Yams

/// Decodes the `config:` of a `coproc` filter (and of a route's `per_filter_config.coproc`).
/// The coprocessor name is only recorded here; ``ConfigLoader`` checks it against `coprocessors:`
/// once the whole file has been read.
enum CoprocFilterDecoder {
    static let keys = ["coprocessor", "phases", "max_body_bytes", "settings"]
    static let overrideKeys = keys + ["disabled"]

    static func decode(_ node: Node?, _ what: String, at typeNode: Node, isOverride: Bool, _ context: ConfigDecodingContext) -> CoprocFilterConfig? {
        guard let node else { context.report(.missingField(field: "config", in: what), at: typeNode); return nil }
        let disabled: Bool
        let map: YAMLMap
        if isOverride {
            guard let decoded = context.map(node, what, known: overrideKeys) else { return nil }
            map = decoded
            disabled = map.bool("disabled") ?? false
            if !disabled && !map.has("coprocessor") {
                context.report(.missingField(field: "coprocessor", in: "\(what) (unless disabled: true)"), at: node)
                return nil
            }
        } else {
            guard let decoded = context.map(node, what, known: keys, required: ["coprocessor"]) else { return nil }
            map = decoded
            disabled = false
        }
        let errorsBefore = context.errors.count
        var config = CoprocFilterConfig(coprocessor: map.string("coprocessor") ?? "", disabled: disabled)
        if let bytes = map.byteSize("max_body_bytes") { config.maxBodyBytes = bytes }
        if let nameNode = map["coprocessor"], !config.coprocessor.isEmpty {
            context.coprocessorReferences.append(CoprocessorReference(name: config.coprocessor, node: nameNode, maxBodyBytes: config.maxBodyBytes,
                                                                      maxBodyBytesNode: map["max_body_bytes"]))
        }
        if let items = map.list("phases") {
            var phases: [CoprocFilterConfig.Phase] = []
            for (index, item) in items.enumerated() {
                guard let phase = context.choice(item, "\(map.field("phases"))[\(index)]", as: CoprocFilterConfig.Phase.self) else { continue }
                if !phases.contains(phase) { phases.append(phase) }
            }
            config.phases = phases
        }
        if let settings = map["settings"] {
            if case .mapping = settings {
                config.settingsJSON = YAMLJSON.render(settings)
            } else {
                context.report(.wrongType(field: map.field("settings"), expected: "a mapping",
                                          found: ConfigDecodingContext.describe(settings)), at: settings)
            }
        }
        return context.errors.count == errorsBefore ? config : nil
    }
}

/// A coprocessor name used by a filter (`coproc`, `jwt_authn`, `aes_gcm`), with where it was
/// written and the body size one call or answer may carry (which must fit the coprocessor's ring
/// frames).
struct CoprocessorReference {
    var name: String
    var node: Node
    var filterType = "coproc"
    var maxBodyBytes: Int = CoprocFilterConfig.defaultMaxBodyBytes
    var maxBodyBytesNode: Node?
    /// Only the size is to be checked (a route override of a filter whose name is checked already).
    var sizeOnly = false
}

/// Renders a YAML node as compact JSON text: mappings become objects (keys as strings, in source
/// order), sequences arrays, and scalars what their YAML type resolves to (integer, float, bool,
/// null, else string). Used for a `coproc` filter's free-form `settings`.
enum YAMLJSON {
    static func render(_ node: Node) -> String {
        var out = ""
        render(node, into: &out)
        return out
    }

    static func render(_ node: Node, into out: inout String) {
        switch node {
        case .mapping(let mapping):
            out += "{"
            for (index, (key, value)) in mapping.enumerated() {
                if index > 0 { out += "," }
                JSONText.quote(key.string ?? render(key), into: &out)
                out += ":"
                render(value, into: &out)
            }
            out += "}"
        case .sequence(let sequence):
            out += "["
            for (index, item) in sequence.enumerated() {
                if index > 0 { out += "," }
                render(item, into: &out)
            }
            out += "]"
        case .scalar(let scalar):
            if ConfigDecodingContext.isTagged(node, .null) {
                out += "null"
            } else if ConfigDecodingContext.isTagged(node, .bool), let flag = Bool.construct(from: scalar) {
                out += flag ? "true" : "false"
            } else if ConfigDecodingContext.isTagged(node, .int), let number = Int.construct(from: scalar) {
                out += String(number)
            } else if ConfigDecodingContext.isTagged(node, .float), let number = Double.construct(from: scalar), number.isFinite {
                out += String(number)
            } else {
                JSONText.quote(scalar.string, into: &out)
            }
        case .alias:
            out += "null"
        }
    }
}
