import Foundation

/// What a setting asks for a body, header or cookie: seal it with the active key, or open it with
/// whichever listed key its header names.
public enum CryptoOperation: String, Sendable, Equatable {
    case encrypt, decrypt
}

/// What to do with one message (request or response): its body, chosen headers, chosen cookies,
/// under which key and body context.
public struct DirectionSettings: Equatable, Sendable {
    public var body: CryptoOperation?
    /// By lower-cased header name.
    public var headers: [String: CryptoOperation]
    /// By cookie name (case-sensitive), in `cookie` on requests and `set-cookie` on responses.
    public var cookies: [String: CryptoOperation]
    /// Seal with this key instead of the active one, and open only what names it (a route pinned
    /// to one key). Nil: the key file's active key seals, any listed key opens.
    public var keyID: KeyID?
    /// The context the body is sealed and opened under (docs/aes-gcm-format.md section 1).
    public var bodyContext: String

    public static let defaultBodyContext = "body"
    static let maxContextBytes = 255

    public init(body: CryptoOperation? = nil, headers: [String: CryptoOperation] = [:], cookies: [String: CryptoOperation] = [:],
                keyID: KeyID? = nil, bodyContext: String = DirectionSettings.defaultBodyContext) {
        self.body = body
        self.headers = headers
        self.cookies = cookies
        self.keyID = keyID
        self.bodyContext = bodyContext
    }

    /// The keys this message is sealed or opened with: `ring`, or only its key `keyID` (then
    /// active) — nil when the ring has no such key.
    public func keys(from ring: KeyRing) -> KeyRing? {
        guard let keyID else { return ring }
        return ring.restricted(to: keyID)
    }

    /// Whether the message head needs any work.
    public var touchesHead: Bool { !headers.isEmpty || !cookies.isEmpty }
}

/// A route's `aes_gcm` settings as the kernel sends them in each call's `filterConfig`
/// (docs/aes-gcm-format.md section 4):
///
///     {"request":  {"body": "decrypt", "headers": {"x-card": "decrypt"}, "cookies": {"session": "decrypt"}},
///      "response": {"body": "encrypt", "headers": {"x-card": "encrypt"}, "cookies": {"session": "encrypt"}},
///      "chunk_size": 16384}
///
/// Each direction may also name a `key_id` (seal with it, open only what names it) and a body
/// `context` (default `body`). Every field is optional; "" or `{}` does nothing. Guarantees: parsing is strict (an unknown or
/// misspelt field, a bad operation, a pseudo-header, `cookie`/`set-cookie` among `headers`, or a
/// chunk size outside 1...1 MiB is an ``AESGCMSettingsError``), so a typo can never silently leave
/// data unencrypted.
public struct AESGCMSettings: Equatable, Sendable {
    public var request: DirectionSettings
    public var response: DirectionSettings
    public var chunkSize: Int

    public init(request: DirectionSettings = DirectionSettings(), response: DirectionSettings = DirectionSettings(),
                chunkSize: Int = SealedFormat.defaultChunkSize) {
        self.request = request
        self.response = response
        self.chunkSize = chunkSize
    }

    public subscript(direction: MessageDirection) -> DirectionSettings {
        direction == .request ? request : response
    }

    /// Headers that `headers` may not name: the pseudo-headers, the cookie headers (see `cookies`),
    /// and the framing headers the kernel owns.
    static let reservedHeaders: Set<String> = ["cookie", "set-cookie", "content-length", "transfer-encoding", "connection", "host"]

    public static func parse(_ json: String) throws -> AESGCMSettings {
        if json.isEmpty { return AESGCMSettings() }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)), let root = object as? [String: Any] else {
            throw AESGCMSettingsError(path: "", problem: "not a JSON object")
        }
        try Self.allow(["request", "response", "chunk_size"], in: root, at: "")
        var settings = AESGCMSettings()
        settings.request = try direction(root["request"], at: "request")
        settings.response = try direction(root["response"], at: "response")
        if let size = root["chunk_size"] {
            guard let number = size as? Int, (1...SealedFormat.maxChunkSize).contains(number), !(size is Bool) else {
                throw AESGCMSettingsError(path: "chunk_size", problem: "must be an integer from 1 to \(SealedFormat.maxChunkSize)")
            }
            settings.chunkSize = number
        }
        return settings
    }

    private static func direction(_ value: Any?, at path: String) throws -> DirectionSettings {
        guard let value else { return DirectionSettings() }
        guard let object = value as? [String: Any] else { throw AESGCMSettingsError(path: path, problem: "must be an object") }
        try allow(["body", "headers", "cookies", "key_id", "context"], in: object, at: path)
        var settings = DirectionSettings()
        if let body = object["body"] { settings.body = try operation(body, at: "\(path).body") }
        if let value = object["key_id"] {
            guard let text = value as? String, let id = KeyID(text) else {
                throw AESGCMSettingsError(path: "\(path).key_id", problem: "must be a key id (1 to 64 of A-Z a-z 0-9 . _ -)")
            }
            settings.keyID = id
        }
        if let value = object["context"] {
            guard let text = value as? String, (1...DirectionSettings.maxContextBytes).contains(text.utf8.count),
                  text.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
                throw AESGCMSettingsError(path: "\(path).context", problem: "must be 1 to 255 printable ASCII characters")
            }
            settings.bodyContext = text
        }
        settings.headers = try names(object["headers"], at: "\(path).headers") { name in
            guard HTTPToken.isToken(name), !reservedHeaders.contains(name.lowercased()) else {
                throw AESGCMSettingsError(path: "\(path).headers", problem: "\"\(name)\" is not a header this filter may change")
            }
            return name.lowercased()
        }
        settings.cookies = try names(object["cookies"], at: "\(path).cookies") { name in
            guard HTTPToken.isToken(name) else { throw AESGCMSettingsError(path: "\(path).cookies", problem: "\"\(name)\" is not a cookie name") }
            return name
        }
        return settings
    }

    private static func names(_ value: Any?, at path: String, key: (String) throws -> String) throws -> [String: CryptoOperation] {
        guard let value else { return [:] }
        guard let object = value as? [String: Any] else { throw AESGCMSettingsError(path: path, problem: "must map names to encrypt or decrypt") }
        var result: [String: CryptoOperation] = [:]
        for name in object.keys.sorted() {
            let normalized = try key(name)
            guard result[normalized] == nil else { throw AESGCMSettingsError(path: path, problem: "\"\(name)\" is listed twice") }
            result[normalized] = try operation(object[name]!, at: "\(path).\(name)")
        }
        return result
    }

    private static func operation(_ value: Any, at path: String) throws -> CryptoOperation {
        guard let text = value as? String, let operation = CryptoOperation(rawValue: text) else {
            throw AESGCMSettingsError(path: path, problem: "must be \"encrypt\" or \"decrypt\"")
        }
        return operation
    }

    private static func allow(_ fields: Set<String>, in object: [String: Any], at path: String) throws {
        let unknown = Set(object.keys).subtracting(fields)
        guard unknown.isEmpty else {
            throw AESGCMSettingsError(path: path, problem: "unknown field(s) \(unknown.sorted().joined(separator: ", "))")
        }
    }
}

/// A refused settings document: where (`request.headers`, "" for the top) and why.
public struct AESGCMSettingsError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public var description: String { path.isEmpty ? "aes_gcm settings: \(problem)" : "aes_gcm settings: \(path): \(problem)" }
}
