/// `aes_gcm`: encrypts or decrypts request and response bodies, chosen headers and chosen cookies
/// per route, carried out by the `herz-aesgcm` coprocessor (docs/aes-gcm-format.md), which alone
/// holds the keys. Immutable, validated config.
///
/// ```yaml
/// - type: aes_gcm
///   config:
///     coprocessor: aesgcm               # default aesgcm
///     max_body_bytes: 1MiB              # body waiting in the kernel per direction (as for coproc)
///     chunk_size: 16KiB                 # plaintext per sealed chunk when encrypting; 1KiB…1MiB
///     request:  { body: decrypt, headers: { x-card: decrypt }, cookies: { session: decrypt },
///                 key_id: 2026-11, context: orders }
///     response: { body: encrypt }
/// ```
///
/// A route replaces the operations with `per_filter_config: { aes_gcm: { request, response,
/// chunk_size } }` or switches the filter off with `{ aes_gcm: { disabled: true } }`. The kernel
/// side only decides which calls a stream needs (``AESGCMOperations/phases``) and sends the
/// operations as settings JSON (``AESGCMOperations/settingsJSON``) with every call.
public struct AESGCMConfig: Sendable, Equatable {
    public static let defaultCoprocessor = "aesgcm"

    public var coprocessor: String
    public var maxBodyBytes: Int
    /// The listener's operations; every route without an override gets them.
    public var operations: AESGCMOperations

    public init(coprocessor: String = AESGCMConfig.defaultCoprocessor, maxBodyBytes: Int = CoprocFilterConfig.defaultMaxBodyBytes,
                operations: AESGCMOperations = AESGCMOperations()) {
        self.coprocessor = coprocessor
        self.maxBodyBytes = maxBodyBytes
        self.operations = operations
    }

    /// The call config of a stream under `operations` (the listener's, or a route's replacement):
    /// nil when they do nothing, so such streams never call the coprocessor.
    public func call(_ operations: AESGCMOperations) -> CoprocFilterConfig? {
        guard !operations.phases.isEmpty else { return nil }
        return CoprocFilterConfig(coprocessor: coprocessor, phases: operations.phases, maxBodyBytes: maxBodyBytes,
                                  settingsJSON: operations.settingsJSON)
    }

    /// The largest body one answer of the coprocessor can carry under `operations` (what must fit
    /// the coprocessor's ring frames): a call's body plus what encryption adds — the bytes the
    /// sealer holds back (under one chunk), the message header, a tag per chunk.
    public func largestAnswerBody(_ operations: AESGCMOperations) -> Int {
        guard operations.request.body == .encrypt || operations.response.body == .encrypt else { return maxBodyBytes }
        let size = operations.chunkSize
        let chunks = (maxBodyBytes + size - 1) / size + 1
        return maxBodyBytes + (size - 1) + AESGCMOperations.largestMessageHeader + AESGCMOperations.tagBytes * chunks
    }
}

/// What `aes_gcm` does on a route. Immutable once built: the phases and the settings JSON the
/// coprocessor reads are rendered once, when the config is loaded.
public struct AESGCMOperations: Sendable, Equatable {
    public static let defaultChunkSize = 16 * 1024
    /// Chunk sizes the kernel accepts: small chunks multiply the 16-byte tags (and the answers'
    /// size, which must fit the ring), large ones what the coprocessor holds per stream.
    public static let chunkSizeRange = 1024...(1 << 20)
    /// A sealed message's header with the longest key id (docs/aes-gcm-format.md section 1).
    static let largestMessageHeader = 41 + 64
    static let tagBytes = 16

    public let request: AESGCMMessageOperations
    public let response: AESGCMMessageOperations
    public let chunkSize: Int
    /// The coprocessor phases these operations need, in wire order (docs/aes-gcm-format.md 7.2).
    public let phases: [CoprocFilterConfig.Phase]
    /// `{"request":{…},"response":{…},"chunk_size":N}` as herz-aesgcm's `AESGCMSettings` reads it.
    public let settingsJSON: String

    public init(request: AESGCMMessageOperations = AESGCMMessageOperations(), response: AESGCMMessageOperations = AESGCMMessageOperations(),
                chunkSize: Int = AESGCMOperations.defaultChunkSize) {
        self.request = request
        self.response = response
        self.chunkSize = chunkSize
        self.phases = request.phases(.requestHeaders, .requestBody, .requestTrailers)
            + response.phases(.responseHeaders, .responseBody, .responseTrailers)
        self.settingsJSON = ConfigDump.compactJSON(.map(Self.settingsFields(request: request, response: response, chunkSize: chunkSize)))
    }

    /// The fields as written in YAML and sent as JSON (directions without work left out).
    static func settingsFields(request: AESGCMMessageOperations, response: AESGCMMessageOperations,
                               chunkSize: Int) -> [(String, ConfigDump)] {
        var fields: [(String, ConfigDump)] = []
        if !request.isEmpty { fields.append(("request", request.dumpValue)) }
        if !response.isEmpty { fields.append(("response", response.dumpValue)) }
        fields.append(("chunk_size", .int(chunkSize)))
        return fields
    }
}

/// Encrypt or decrypt.
public enum AESGCMOperation: String, Sendable, Equatable, CaseIterable {
    case encrypt, decrypt
}

/// What to do with one message (request or response).
public struct AESGCMMessageOperations: Sendable, Equatable {
    /// A named field (header or cookie) and what to do with it.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var operation: AESGCMOperation
        public init(name: String, operation: AESGCMOperation) { self.name = name; self.operation = operation }
    }

    public var body: AESGCMOperation?
    /// Lower-cased header names, sorted, unique.
    public var headers: [Field]
    /// Cookie names (case-sensitive), sorted, unique.
    public var cookies: [Field]
    /// Seal with this key instead of the key file's active one, and open only what it sealed.
    public var keyID: String?
    /// The context bodies are sealed under (default `body`): a body sealed under one context does
    /// not open under another.
    public var context: String?

    public init(body: AESGCMOperation? = nil, headers: [Field] = [], cookies: [Field] = [], keyID: String? = nil, context: String? = nil) {
        self.body = body
        self.headers = headers
        self.cookies = cookies
        self.keyID = keyID
        self.context = context
    }

    /// Nothing to encrypt or decrypt in this message.
    public var isEmpty: Bool { body == nil && headers.isEmpty && cookies.isEmpty }

    /// Headers when anything is to be done (a body operation's state starts there, and `decrypt`
    /// holds the head); body and trailers with a body operation (the trailers call checks that the
    /// body's final chunk was written or verified).
    func phases(_ headersPhase: CoprocFilterConfig.Phase, _ bodyPhase: CoprocFilterConfig.Phase,
                _ trailersPhase: CoprocFilterConfig.Phase) -> [CoprocFilterConfig.Phase] {
        if isEmpty { return [] }
        return body == nil ? [headersPhase] : [headersPhase, bodyPhase, trailersPhase]
    }
}

/// A route's `per_filter_config: { aes_gcm: ... }`: `disabled: true`, or operations that replace
/// the listener's on that route (for every `aes_gcm` filter of the listener).
public enum AESGCMPerRouteConfig: Sendable, Equatable {
    case disabled
    case operations(AESGCMOperations)
}
