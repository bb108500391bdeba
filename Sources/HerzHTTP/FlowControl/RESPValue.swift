import NIOCore

/// One RESP2 value, as a Redis server sends it (https://redis.io/docs/latest/develop/reference/protocol-spec/).
/// Produced only by ``RESPParser``, which bounds its size and nesting, so holding one is always cheap.
enum RESPValue: Equatable, Sendable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    /// A bulk string; nil for RESP2's null bulk string (`$-1`).
    case bulkString(ByteBuffer?)
    /// An array; nil for RESP2's null array (`*-1`).
    case array([RESPValue]?)

    /// The integers of an array made only of integers (a script's `{a, b, c}` reply), else nil.
    var integers: [Int64]? {
        guard case .array(let elements?) = self else { return nil }
        var result: [Int64] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard case .integer(let value) = element else { return nil }
            result.append(value)
        }
        return result
    }

    /// The text of a simple or bulk string, else nil.
    var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let bytes?): return String(buffer: bytes)
        default: return nil
        }
    }
}
