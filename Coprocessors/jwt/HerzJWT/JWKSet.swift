/// The usable keys of one JWKS document (RFC 7517 section 5), and how a token's `kid` and `alg`
/// select among them.
///
/// Guarantees: keys that are not public signature keys of a supported type are left out (and
/// named in ``notes``), private members are never kept, and ``candidates(keyID:algorithm:)``
/// only returns keys that accept the algorithm. Immutable; shared by every ring thread.
public struct JWKSet: Sendable {
    public let keys: [VerificationKey]
    /// One line per key left out or private member ignored, for the operator's log.
    public let notes: [String]

    public init(keys: [VerificationKey], notes: [String] = []) {
        self.keys = keys
        self.notes = notes
    }

    /// Reads a JWKS document (`{"keys": [...]}`); throws ``JWKSetError`` when the document itself
    /// is unusable. Individual bad keys only become ``notes``.
    public static func parse<Bytes: Collection>(_ bytes: Bytes) throws -> JWKSet where Bytes.Element == UInt8 {
        let document: JSONValue
        do {
            document = try StrictJSON.parse(bytes)
        } catch {
            throw JWKSetError(reason: "not valid JSON (\(error))")
        }
        guard let list = document.object?["keys"]?.array else { throw JWKSetError(reason: "no \"keys\" list") }
        var keys: [VerificationKey] = []
        var notes: [String] = []
        for (index, item) in list.enumerated() {
            guard let jwk = item.object else {
                notes.append("keys[\(index)]: not an object")
                continue
            }
            let name = "keys[\(index)]" + (jwk["kid"]?.string.map { " (kid \(JWTRejection.shown($0)))" } ?? "")
            switch JWK.parse(jwk) {
            case .success(let key):
                keys.append(key)
                let ignored = JWK.privateMembers.filter { jwk[$0] != nil }
                if !ignored.isEmpty { notes.append("\(name): private members ignored (\(ignored.joined(separator: ", ")))") }
            case .failure(let problem):
                notes.append("\(name): left out: \(problem)")
            }
        }
        return JWKSet(keys: keys, notes: notes)
    }

    /// The keys to try for a token: with a `kid`, the keys of that id (none → ``JWTRejection/unknownKeyID(_:)``,
    /// none fitting `algorithm` → ``JWTRejection/algorithmKeyMismatch(algorithm:)``); without, every
    /// key that accepts `algorithm` (none → ``JWTRejection/noKeyForAlgorithm(_:)``).
    public func candidates(keyID: String?, algorithm: JWSAlgorithm) -> Result<[VerificationKey], JWTRejection> {
        if let keyID {
            let named = keys.filter { $0.keyID == keyID }
            guard !named.isEmpty else { return .failure(.unknownKeyID(keyID)) }
            let fitting = named.filter { $0.accepts(algorithm) }
            return fitting.isEmpty ? .failure(.algorithmKeyMismatch(algorithm: algorithm.rawValue)) : .success(fitting)
        }
        let fitting = keys.filter { $0.accepts(algorithm) }
        return fitting.isEmpty ? .failure(.noKeyForAlgorithm(algorithm.rawValue)) : .success(fitting)
    }
}

/// A JWKS document that cannot be used at all (not JSON, no `keys`, unreadable file).
public struct JWKSetError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
