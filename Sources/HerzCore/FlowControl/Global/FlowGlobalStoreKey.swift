/// The Redis key of one global bucket: `PREFIX` + the limit's identity + the budget's name, with
/// U+001F between parts (a byte that neither rule names nor HTTP values carry, so two different
/// triples never share a key). Every kernel of a fleet derives the same key from the same rule.
///
/// A budget name longer than ``maxValueBytes`` (a long header value used as key) is replaced by
/// `#` and a 128-bit hash of it, so keys stay small whatever a client sends. Two values with the
/// same hash share one budget; a client that could make that happen could as well send the other
/// value itself, so hashing gives nobody a budget they could not already reach.
public enum FlowGlobalStoreKey {
    public static let maxValueBytes = 128

    /// The key prefix Herz uses unless configured otherwise.
    public static let defaultPrefix = "herz:flow:"

    /// The part of the key shared by every budget of `limit` (computed once per limit).
    public static func limitPart(prefix: String, limit: FlowLimitID) -> String {
        "\(prefix)\(limit.rule)\u{1F}\(limit.ordinal)\u{1F}\(limit.key)\u{1F}"
    }

    /// The full key for the budget named `value` under a ``limitPart(prefix:limit:)``.
    public static func key(limitPart: String, value: String) -> String {
        guard value.utf8.count > maxValueBytes else { return limitPart + value }
        return limitPart + "#" + hash(value)
    }

    /// Two independently mixed 64-bit hashes (FNV-1a and a shifted variant) of the UTF-8 bytes, in hex.
    static func hash(_ value: String) -> String {
        var first: UInt64 = 0xCBF2_9CE4_8422_2325
        var second: UInt64 = 0x6C62_272E_07BB_0142
        for byte in value.utf8 {
            first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            second = (second &* 0x0000_0100_0000_01B3) ^ UInt64(byte) ^ (second >> 29)
        }
        return String(first, radix: 16) + ":" + String(second, radix: 16)
    }
}
