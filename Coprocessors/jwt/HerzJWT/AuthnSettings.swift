/// One provider as the `jwt_authn` filter hands it to herz-jwt: the provider's config keys
/// (docs/configuration.md, jwt_authn) plus its `name`, rendered by HerzCore from the validated
/// config (`JWTAuthnConfig.settingsJSON(for:)`).
public struct ProviderSettings: Equatable, Sendable {
    public var name: String
    /// The `local_jwks.filename` of the provider.
    public var jwksFile: String
    public var requirements: ClaimRequirements
    /// Where to look, in order; the first location holding a token is used.
    public var locations: [TokenLocation]
    /// Keep the token in the request (false: strip its header or cookie after verification).
    public var forward: Bool
    /// Lower-case header that receives the verified payload (base64url, as in the token).
    public var payloadHeader: String?
    /// Claims copied into request headers.
    public var claimHeaders: [ClaimHeader]

    public init(name: String, jwksFile: String, requirements: ClaimRequirements = ClaimRequirements(),
                locations: [TokenLocation] = [.header(name: "authorization", prefix: "Bearer ")], forward: Bool = false,
                payloadHeader: String? = nil, claimHeaders: [ClaimHeader] = []) {
        self.name = name
        self.jwksFile = jwksFile
        self.requirements = requirements
        self.locations = locations
        self.forward = forward
        self.payloadHeader = payloadHeader
        self.claimHeaders = claimHeaders
    }
}

/// `claim_to_headers` entry: the value of `claim` (`a.b` reaches into nested objects) goes into
/// the request header `header` (lower case).
public struct ClaimHeader: Equatable, Sendable {
    public var header: String
    public var claim: String

    public init(header: String, claim: String) {
        self.header = header
        self.claim = claim
    }
}

/// What one call asks herz-jwt to enforce: a token of any one of `providers` (in order), or none
/// at all when `allowMissing`. Parsed from the call's filter settings JSON, which HerzCore renders
/// per rule (`JWTAuthnConfig.settingsJSON(for:)`); the schema is versioned and an unknown version or a
/// missing field is refused, so a kernel and a coprocessor of different builds fail closed
/// instead of half-understanding each other.
public struct AuthnSettings: Equatable, Sendable {
    public static let version = 1

    public var providers: [ProviderSettings]
    /// A request without any token passes (a token that is present must still verify).
    public var allowMissing: Bool
    public var maxTokenBytes: Int

    public init(providers: [ProviderSettings], allowMissing: Bool = false, maxTokenBytes: Int = 8192) {
        self.providers = providers
        self.allowMissing = allowMissing
        self.maxTokenBytes = maxTokenBytes
    }

    /// Parses the settings JSON; throws ``SettingsError`` naming the first bad field.
    public static func parse(_ json: String) throws(SettingsError) -> AuthnSettings {
        let value: JSONValue
        do {
            value = try StrictJSON.parse(json)
        } catch {
            throw SettingsError("settings are not valid JSON (\(error))")
        }
        guard let root = value.object else { throw SettingsError("settings are not a JSON object") }
        let reader = SettingsReader(object: root, path: "settings")
        guard try reader.int("version") == version else { throw SettingsError("settings version is not \(version)") }
        let providers = try reader.objects("providers").map(provider)
        guard !providers.isEmpty else { throw SettingsError("settings.providers is empty") }
        return AuthnSettings(providers: providers, allowMissing: try reader.bool("allow_missing"),
                             maxTokenBytes: try reader.int("max_token_bytes"))
    }

    private static func provider(_ reader: SettingsReader) throws(SettingsError) -> ProviderSettings {
        let requirements = ClaimRequirements(issuer: try reader.optionalString("issuer"), audiences: try reader.strings("audiences"),
                                             clockSkewSeconds: Double(try reader.int("clock_skew_seconds")),
                                             requireExpiration: try reader.bool("require_expiration"))
        var locations: [TokenLocation] = []
        for header in try reader.objects("from_headers") {
            locations.append(.header(name: try header.string("name").lowercased(), prefix: try header.string("value_prefix")))
        }
        locations += try reader.strings("from_params").map(TokenLocation.queryParameter)
        locations += try reader.strings("from_cookies").map(TokenLocation.cookie)
        guard !locations.isEmpty else { throw SettingsError("\(reader.path) has no token location") }
        var claimHeaders: [ClaimHeader] = []
        for item in try reader.objects("claim_to_headers") {
            claimHeaders.append(ClaimHeader(header: try item.string("header_name").lowercased(), claim: try item.string("claim_name")))
        }
        return ProviderSettings(name: try reader.string("name"), jwksFile: try reader.object("local_jwks").string("filename"), requirements: requirements,
                                locations: locations, forward: try reader.bool("forward"),
                                payloadHeader: try reader.optionalString("forward_payload_header")?.lowercased(), claimHeaders: claimHeaders)
    }
}

/// A settings field that is missing or of the wrong type.
public struct SettingsError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Typed, required reads of one settings object; every failure names the field's path.
struct SettingsReader {
    let object: JSONObject
    let path: String

    func value(_ key: String) throws(SettingsError) -> JSONValue {
        guard let value = object[key] else { throw SettingsError("\(path).\(key) is missing") }
        return value
    }

    func wrongType(_ key: String, _ expected: String) -> SettingsError { SettingsError("\(path).\(key) is not \(expected)") }

    func string(_ key: String) throws(SettingsError) -> String {
        guard let text = try value(key).string else { throw wrongType(key, "a string") }
        return text
    }

    func optionalString(_ key: String) throws(SettingsError) -> String? {
        guard let found = object[key], found != .null else { return nil }
        guard let text = found.string else { throw wrongType(key, "a string") }
        return text
    }

    func int(_ key: String) throws(SettingsError) -> Int {
        guard let number = try value(key).number, let integer = Int(exactly: number) else { throw wrongType(key, "an integer") }
        return integer
    }

    func bool(_ key: String) throws(SettingsError) -> Bool {
        guard let flag = try value(key).bool else { throw wrongType(key, "true or false") }
        return flag
    }

    func strings(_ key: String) throws(SettingsError) -> [String] {
        guard let items = try value(key).array else { throw wrongType(key, "a list") }
        let strings = items.compactMap(\.string)
        guard strings.count == items.count else { throw wrongType(key, "a list of strings") }
        return strings
    }

    func object(_ key: String) throws(SettingsError) -> SettingsReader {
        guard let object = try value(key).object else { throw wrongType(key, "an object") }
        return SettingsReader(object: object, path: "\(path).\(key)")
    }

    func objects(_ key: String) throws(SettingsError) -> [SettingsReader] {
        guard let items = try value(key).array else { throw wrongType(key, "a list") }
        var readers: [SettingsReader] = []
        for (index, item) in items.enumerated() {
            guard let object = item.object else { throw wrongType("\(key)[\(index)]", "an object") }
            readers.append(SettingsReader(object: object, path: "\(path).\(key)[\(index)]"))
        }
        return readers
    }
}
