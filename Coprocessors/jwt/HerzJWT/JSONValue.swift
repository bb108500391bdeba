/// A parsed JSON value (RFC 8259) as produced by ``StrictJSON``: what a token header, a token
/// payload, a JWKS file and the `jwt_authn` settings are read into. Immutable; `Sendable`.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var string: String? { if case .string(let value) = self { return value } else { return nil } }
    public var bool: Bool? { if case .bool(let value) = self { return value } else { return nil } }
    public var number: Double? { if case .number(let value) = self { return value.value } else { return nil } }
    public var array: [JSONValue]? { if case .array(let value) = self { return value } else { return nil } }
    public var object: JSONObject? { if case .object(let value) = self { return value } else { return nil } }
}

/// A JSON number with the text it was written as (claims are forwarded as written, not re-printed)
/// and its value as a finite `Double`.
public struct JSONNumber: Equatable, Sendable {
    public let text: String
    public let value: Double

    public init(text: String, value: Double) {
        self.text = text
        self.value = value
    }
}

/// A JSON object whose member names are unique (the parser rejects duplicates).
public struct JSONObject: Equatable, Sendable {
    public let members: [String: JSONValue]

    public init(_ members: [String: JSONValue]) {
        self.members = members
    }

    public subscript(name: String) -> JSONValue? { members[name] }
}
