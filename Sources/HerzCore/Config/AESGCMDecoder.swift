import Yams

/// Decodes the `config:` of an `aes_gcm` filter and a route's `per_filter_config.aes_gcm`. Every
/// problem is reported with `file:line:col`, as strictly as herz-aesgcm reads the settings (a typo
/// must never leave data unencrypted). Checked elsewhere: the coprocessor name and its
/// `on_failure` (never `fail_open`) by ``ConfigLoader``; that a route's override has an `aes_gcm`
/// filter to apply to by ``ListenerDecoder`` (``checkOverrides(_:filters:_:)``).
enum AESGCMDecoder {
    static let keys = ["coprocessor", "max_body_bytes", "chunk_size", "request", "response"]
    static let operationKeys = ["request", "response", "chunk_size"]
    static let perRouteKeys = operationKeys + ["disabled"]
    static let messageKeys = ["body", "headers", "cookies", "key_id", "context"]
    /// Headers `headers` may not name: the cookie headers (see `cookies`) and those the kernel owns
    /// for framing and routing (herz-aesgcm refuses the same).
    static let reservedHeaders = ["cookie", "set-cookie", "content-length", "transfer-encoding", "connection", "host"]
    static let maxContextBytes = 255

    static func decode(_ node: Node?, _ what: String, at typeNode: Node, _ context: ConfigDecodingContext) -> AESGCMConfig? {
        let map: YAMLMap?
        if let node { map = context.map(node, what, known: keys) } else { map = nil }
        if node != nil && map == nil { return nil }
        let errorsBefore = context.errors.count
        var config = AESGCMConfig()
        if let map {
            if map.has("coprocessor") { config.coprocessor = map.string("coprocessor") ?? "" }
            if let bytes = map.byteSize("max_body_bytes") { config.maxBodyBytes = bytes }
            config.operations = decodeOperations(map, context) ?? config.operations
        }
        if !config.coprocessor.isEmpty {
            context.coprocessorReferences.append(CoprocessorReference(
                name: config.coprocessor, node: map?["coprocessor"] ?? typeNode, filterType: "aes_gcm",
                maxBodyBytes: config.largestAnswerBody(config.operations), maxBodyBytesNode: map?["max_body_bytes"]))
        }
        return context.errors.count == errorsBefore ? config : nil
    }

    /// `request`, `response`, `chunk_size` of `map` (a filter config or a route override).
    static func decodeOperations(_ map: YAMLMap, _ context: ConfigDecodingContext) -> AESGCMOperations? {
        let errorsBefore = context.errors.count
        var chunkSize = AESGCMOperations.defaultChunkSize
        if let bytes = map.byteSize("chunk_size") {
            if AESGCMOperations.chunkSizeRange.contains(bytes) { chunkSize = bytes } else {
                context.report(.invalidValue(field: map.field("chunk_size"), value: map.string("chunk_size") ?? String(bytes),
                                             reason: "must be from 1KiB to 1MiB"), at: map["chunk_size"])
            }
        }
        let request = map["request"].flatMap { decodeMessage($0, map.field("request"), context) } ?? AESGCMMessageOperations()
        let response = map["response"].flatMap { decodeMessage($0, map.field("response"), context) } ?? AESGCMMessageOperations()
        guard context.errors.count == errorsBefore else { return nil }
        return AESGCMOperations(request: request, response: response, chunkSize: chunkSize)
    }

    static func decodeMessage(_ node: Node, _ what: String, _ context: ConfigDecodingContext) -> AESGCMMessageOperations? {
        guard let map = context.map(node, what, known: messageKeys) else { return nil }
        let errorsBefore = context.errors.count
        var message = AESGCMMessageOperations()
        message.body = map.choice("body", as: AESGCMOperation.self)
        message.headers = fields(map, "headers", context) { name in
            guard FilterDecoder.isToken(name), !reservedHeaders.contains(name.lowercased()) else {
                return "not a header aes_gcm may change (a valid name other than \(reservedHeaders.joined(separator: ", ")))"
            }
            return nil
        }
        message.cookies = fields(map, "cookies", context) { FilterDecoder.isToken($0) ? nil : "not a valid cookie name" }
        if let keyID = map.string("key_id") {
            if isKeyID(keyID) { message.keyID = keyID } else {
                context.report(.invalidValue(field: map.field("key_id"), value: keyID, reason: "key ids are 1 to 64 of A-Z a-z 0-9 . _ -"),
                               at: map["key_id"])
            }
        }
        if let text = map.string("context") {
            if text.utf8.count <= maxContextBytes && text.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) { message.context = text } else {
                context.report(.invalidValue(field: map.field("context"), value: text, reason: "must be 1 to 255 printable ASCII characters"),
                               at: map["context"])
            }
        }
        if message.context != nil && message.body == nil {
            context.report(.invalidValue(field: map.field("context"), value: message.context!, reason: "a context applies to a body operation; set body"),
                           at: map["context"])
        }
        if message.keyID != nil && message.isEmpty {
            context.report(.invalidValue(field: map.field("key_id"), value: message.keyID!, reason: "nothing to encrypt or decrypt in \(what)"),
                           at: map["key_id"])
        }
        return context.errors.count == errorsBefore ? message : nil
    }

    /// `{name: encrypt|decrypt}` at `key`, sorted by name; `problem` says why a name is refused.
    /// Header names are lower-cased (so `X-A` and `x-a` are the same name, listed twice); cookie
    /// names are case-sensitive.
    static func fields(_ map: YAMLMap, _ key: String, _ context: ConfigDecodingContext,
                       problem: (String) -> String?) -> [AESGCMMessageOperations.Field] {
        guard let node = map[key], let entries = context.namedEntries(node, map.field(key)) else { return [] }
        var result: [AESGCMMessageOperations.Field] = []
        var seen = Set<String>()
        for entry in entries {
            if let reason = problem(entry.key) {
                context.report(.invalidValue(field: map.field(key), value: entry.key, reason: reason), at: entry.keyNode)
                continue
            }
            let folded = key == "headers" ? entry.key.lowercased() : entry.key
            guard seen.insert(folded).inserted else {
                context.report(.invalidValue(field: map.field(key), value: entry.key, reason: "listed twice"), at: entry.keyNode)
                continue
            }
            if let operation = context.choice(entry.value, "\(map.field(key)).\(entry.key)", as: AESGCMOperation.self) {
                result.append(AESGCMMessageOperations.Field(name: folded, operation: operation))
            }
        }
        return result.sorted { $0.name < $1.name }
    }

    /// docs/aes-gcm-format.md section 1: `[A-Za-z0-9._-]{1,64}`.
    static func isKeyID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
            default: return byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
        }
    }

    /// A route's `per_filter_config.aes_gcm`: `{ disabled: true }` or operations replacing the listener's.
    static func decodePerRoute(_ node: Node?, _ what: String, at typeNode: Node, _ context: ConfigDecodingContext) -> AESGCMPerRouteConfig? {
        guard let node else { context.report(.missingField(field: "config", in: what), at: typeNode); return nil }
        guard let map = context.map(node, what, known: perRouteKeys) else { return nil }
        let decoded: AESGCMPerRouteConfig?
        if map.has("disabled") {
            if let extra = map.entries.first(where: { $0.key != "disabled" }) {
                context.report(.invalidValue(field: map.field(extra.key), value: extra.key, reason: "disabled: true cannot be combined with operations"),
                               at: extra.keyNode)
                return nil
            }
            guard let disabled = map.bool("disabled") else { return nil }
            guard disabled else {
                context.report(.invalidValue(field: map.field("disabled"), value: "false", reason: "only disabled: true is meaningful"), at: map["disabled"])
                return nil
            }
            decoded = .disabled
        } else {
            decoded = decodeOperations(map, context).map(AESGCMPerRouteConfig.operations)
        }
        if let decoded { context.aesGCMOverrides.append(AESGCMOverrideReference(config: decoded, node: typeNode)) }
        return decoded
    }

    /// Every route override in `overrides` needs an `aes_gcm` filter on the listener (else the route
    /// would silently go unencrypted), and the answers it may cause must fit each such filter's
    /// coprocessor's rings (a size-only ``CoprocessorReference`` per filter).
    static func checkOverrides(_ overrides: ArraySlice<AESGCMOverrideReference>, filters: [FilterConfig], _ context: ConfigDecodingContext) {
        let configs = filters.compactMap { filter -> AESGCMConfig? in
            if case .aesGCM(let config) = filter { return config }
            return nil
        }
        for override in overrides {
            guard !configs.isEmpty else {
                context.report(.invalidValue(field: "per_filter_config.aes_gcm", value: "aes_gcm",
                                             reason: "the listener has no aes_gcm filter for this route's override to apply to"), at: override.node)
                continue
            }
            guard case .operations(let operations) = override.config else { continue }
            for config in configs where !config.coprocessor.isEmpty {
                var reference = CoprocessorReference(name: config.coprocessor, node: override.node, filterType: "aes_gcm",
                                                     maxBodyBytes: config.largestAnswerBody(operations))
                reference.sizeOnly = true
                context.coprocessorReferences.append(reference)
            }
        }
    }
}

/// A route's `per_filter_config.aes_gcm`, with where it was written.
struct AESGCMOverrideReference {
    var config: AESGCMPerRouteConfig
    var node: Node
}
