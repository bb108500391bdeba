/// Strict base64url (RFC 4648 section 5) without padding: the encoding of every JWS segment
/// (RFC 7515 section 2) and of values coprocessors put in headers and cookies (herz-aesgcm).
///
/// Guarantees: `decode` accepts only the URL-safe alphabet, no `=` padding, no whitespace, no
/// length of the form 4n+1, and only the canonical encoding (unused trailing bits must be zero), so
/// one byte string has exactly one accepted text. Pure functions; any thread.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Value of each byte in the alphabet, -1 for bytes outside it.
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// The bytes `text` encodes, or `nil` when it is not strict, canonical base64url.
    public static func decode<Text: Collection>(_ text: Text) -> [UInt8]? where Text.Element == UInt8 {
        // Callers in other modules get this generic function unspecialised, which iterates through
        // witness tables byte by byte (a JWT's segments showed up in herz-jwt's profile): contiguous
        // text (arrays, slices, most strings' UTF-8) goes through the one specialised loop instead.
        if let decoded = text.withContiguousStorageIfAvailable({ decodeBytes($0) }) { return decoded }
        return decodeBytes(text)
    }

    private static func decodeBytes<Text: Collection>(_ text: Text) -> [UInt8]? where Text.Element == UInt8 {
        guard text.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits: UInt32 = 0
        for byte in text {
            let value = values[Int(byte)]
            guard value >= 0 else { return nil }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> bits))
                accumulator &= (1 << bits) - 1
            }
        }
        return accumulator == 0 ? out : nil
    }

    /// The unpadded base64url text of `bytes`.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits: UInt32 = 0
        for byte in bytes {
            accumulator = (accumulator << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[Int((accumulator >> bits) & 63)])
            }
            accumulator &= (1 << bits) - 1
        }
        if bits > 0 { out.append(alphabet[Int((accumulator << (6 - bits)) & 63)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// ``decode(_:)-(Text)`` of a string's UTF-8.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(text.utf8)
    }
}
