extension AESGCMConfig {
    /// The config with the keys it was written with (`/config_dump`; parses back to an equal config).
    var dumpValue: ConfigDump {
        .map([("coprocessor", .string(coprocessor)), ("max_body_bytes", .int(maxBodyBytes))] + operations.dumpFields)
    }
}

extension AESGCMOperations {
    /// `request`, `response`, `chunk_size`: the same fields in YAML and in the settings JSON.
    var dumpFields: [(String, ConfigDump)] { Self.settingsFields(request: request, response: response, chunkSize: chunkSize) }
}

extension AESGCMPerRouteConfig {
    var dumpValue: ConfigDump {
        switch self {
        case .disabled: return .map([("disabled", .bool(true))])
        case .operations(let operations): return .map(operations.dumpFields)
        }
    }
}

extension AESGCMMessageOperations {
    /// `{body, headers: {name: op}, cookies: {name: op}, key_id, context}` without absent fields.
    var dumpValue: ConfigDump {
        var fields: [(String, ConfigDump)] = []
        if let body { fields.append(("body", .string(body.rawValue))) }
        if !headers.isEmpty { fields.append(("headers", .map(headers.map { ($0.name, .string($0.operation.rawValue)) }))) }
        if !cookies.isEmpty { fields.append(("cookies", .map(cookies.map { ($0.name, .string($0.operation.rawValue)) }))) }
        if let keyID { fields.append(("key_id", .string(keyID))) }
        if let context { fields.append(("context", .string(context))) }
        return .map(fields)
    }
}
