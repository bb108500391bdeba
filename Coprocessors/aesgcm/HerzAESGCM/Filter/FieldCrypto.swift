import HerzCoprocSDK
/// Seals and opens single header and cookie values: a value becomes the base64url text of one sealed
/// message whose context names the field (`header:NAME` with NAME lower-cased, `cookie:NAME`), so a
/// value sealed for one field does not open as another.
///
/// Guarantees: `open` returns a value only when it authenticated and is safe to put back into the
/// field (UTF-8, no control characters; for cookies also no whitespace, `;`, `,`, `"` or `\`), so a decrypted
/// value can never inject a header line or another cookie. Stateless.
public enum FieldCrypto {
    /// The field a value belongs to; it decides the sealing context.
    public enum Field: Equatable, Sendable {
        case header(String)
        case cookie(String)

        /// The context bound into the sealed value.
        public var context: String {
            switch self {
            case .header(let name): return "header:\(name.lowercased())"
            case .cookie(let name): return "cookie:\(name)"
            }
        }
    }

    /// Why a field value was refused (no secret in it).
    public enum Rejection: Error, Equatable, CustomStringConvertible {
        case notBase64URL
        case sealed(SealedMessageError)
        case unsafePlaintext

        public var description: String {
            switch self {
            case .notBase64URL: return "not base64url"
            case .sealed(let error): return error.description
            case .unsafePlaintext: return "decrypted value is not a valid field value"
            }
        }
    }

    public static func seal(_ value: String, field: Field, key: NamedKey) -> String {
        Base64URL.encode(SealedMessage.seal(Array(value.utf8), key: key, context: field.context))
    }

    public static func open(_ value: String, field: Field, keys: KeyRing) throws -> String {
        guard let sealed = Base64URL.decode(value) else { throw Rejection.notBase64URL }
        let plaintext: [UInt8]
        do {
            plaintext = try SealedMessage.open(sealed, keys: keys, context: field.context)
        } catch let error as SealedMessageError {
            throw Rejection.sealed(error)
        }
        guard let text = String(validating: plaintext, as: UTF8.self), isSafe(plaintext, in: field) else {
            throw Rejection.unsafePlaintext
        }
        return text
    }

    private static func isSafe(_ bytes: [UInt8], in field: Field) -> Bool {
        bytes.allSatisfy { byte in
            if byte < 0x20 && byte != UInt8(ascii: "\t") || byte == 0x7F { return false }
            guard case .cookie = field else { return true }
            return byte != UInt8(ascii: "\t") && !";,\"\\ ".utf8.contains(byte)
        }
    }
}
