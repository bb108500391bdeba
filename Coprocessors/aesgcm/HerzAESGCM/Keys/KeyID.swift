/// A key's name: 1 to 64 characters of `[A-Za-z0-9._-]`, so it is safe in headers, logs and file
/// names. It travels in the clear in every sealed message; it is not secret.
public struct KeyID: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    /// Nil unless `value` is a valid key id.
    public init?(_ value: String) {
        guard Self.isValid(Array(value.utf8)) else { return nil }
        self.value = value
    }

    /// From header bytes already checked by `isValid`.
    init(validBytes: some Collection<UInt8>) {
        self.value = String(decoding: validBytes, as: UTF8.self)
    }

    public static let maxBytes = 64

    static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        (1...maxBytes).contains(bytes.count) && bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    public var description: String { value }
}
