import HerzCoprocSDK
/// A JWS in compact serialization (RFC 7515 section 7.1), split and checked before any key is
/// touched. Parsing the three segments is done here; every cryptographic step is swift-crypto's.
///
/// Guarantees once ``parse(_:maxBytes:)`` returns: the token was at most `maxBytes` long, had
/// exactly three segments of strict base64url, a JSON-object header without duplicate members,
/// a supported `alg` (never `none`, never HMAC), no `crit`, a string `kid` if any, and a non-empty
/// signature. The payload is decoded but not yet parsed: that happens after the signature holds.
public struct CompactJWS: Sendable {
    public let header: JSONObject
    public let algorithm: JWSAlgorithm
    public let keyID: String?
    /// `BASE64URL(header) '.' BASE64URL(payload)` as ASCII: what the signature covers.
    public let signingInput: ArraySlice<UInt8>
    /// The payload segment as received (base64url), for `forward_payload_header`.
    public let payloadSegment: String
    public let payload: [UInt8]
    public let signature: [UInt8]

    public static func parse(_ token: String, maxBytes: Int) throws(JWTRejection) -> CompactJWS {
        let bytes = Array(token.utf8)
        guard bytes.count <= maxBytes else { throw .tooLarge(bytes: bytes.count, limit: maxBytes) }
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else {
            throw .malformed(dots.count == 4 ? "JWE tokens are not supported" : "not three dot-separated segments")
        }
        let headerBytes = bytes[..<dots[0]]
        let payloadBytes = bytes[(dots[0] + 1)..<dots[1]]
        let signatureBytes = bytes[(dots[1] + 1)...]

        guard let headerJSON = Base64URL.decode(headerBytes) else { throw .malformed("header is not base64url") }
        let headerValue: JSONValue
        do throws(JSONParseError) {
            headerValue = try StrictJSON.parse(headerJSON)
        } catch {
            throw .malformed("header: \(error.reason)")
        }
        guard let header = headerValue.object else { throw .malformed("header is not a JSON object") }
        guard let alg = header["alg"]?.string else { throw .malformed("header has no string alg") }
        let algorithm = try JWSAlgorithm.classify(alg).get()
        if let crit = header["crit"] {
            throw .unsupportedCritical(crit.array?.compactMap(\.string) ?? ["(not a list)"])
        }
        var keyID: String?
        if let kid = header["kid"] {
            guard let text = kid.string else { throw .malformed("kid is not a string") }
            keyID = text
        }
        guard let payload = Base64URL.decode(payloadBytes) else { throw .malformed("payload is not base64url") }
        guard let signature = Base64URL.decode(signatureBytes), !signature.isEmpty else {
            throw .malformed("signature is missing or not base64url")
        }
        return CompactJWS(header: header, algorithm: algorithm, keyID: keyID, signingInput: bytes[..<dots[1]],
                          payloadSegment: String(decoding: payloadBytes, as: UTF8.self), payload: payload, signature: signature)
    }
}
