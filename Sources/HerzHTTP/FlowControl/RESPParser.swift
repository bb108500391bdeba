import NIOCore

/// An incremental RESP2 parser with hard limits: whatever bytes the peer sends, it returns a value,
/// asks for more bytes, or throws a ``RESPParseError`` — it never traps, never recurses deeper than
/// ``Limits/maxDepth``, and never holds more than ``Limits/maxReplyBytes`` of one reply.
///
/// Pure (a value type over a `ByteBuffer`); the channel handler feeds it, one connection each.
struct RESPParser: Sendable {
    /// Bounds on one reply. The limiter's replies are a few dozen bytes; these are generous.
    struct Limits: Sendable {
        var maxDepth = 8
        var maxElements = 1_024
        var maxBulkBytes = 512 * 1_024
        var maxLineBytes = 4 * 1_024
        var maxReplyBytes = 1_024 * 1_024
    }

    let limits: Limits

    init(limits: Limits = Limits()) { self.limits = limits }

    /// Parses one value from the front of `buffer` and moves its reader index past it; nil (buffer
    /// untouched) when the value is not complete yet.
    func parse(_ buffer: inout ByteBuffer) throws(RESPParseError) -> RESPValue? {
        var view = buffer
        guard let value = try value(&view, depth: 0) else {
            if buffer.readableBytes > limits.maxReplyBytes { throw .tooLarge }
            return nil
        }
        buffer.moveReaderIndex(to: view.readerIndex)
        return value
    }

    private func value(_ buffer: inout ByteBuffer, depth: Int) throws(RESPParseError) -> RESPValue? {
        guard depth <= limits.maxDepth else { throw .tooDeep }
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            guard let text = try line(&buffer) else { return nil }
            return .simpleString(String(buffer: text))
        case UInt8(ascii: "-"):
            guard let text = try line(&buffer) else { return nil }
            return .error(String(buffer: text))
        case UInt8(ascii: ":"):
            guard let text = try line(&buffer) else { return nil }
            return .integer(try Self.integer(text))
        case UInt8(ascii: "$"):
            guard let length = try header(&buffer, limit: limits.maxBulkBytes) else { return nil }
            guard length >= 0 else { return .bulkString(nil) }
            guard buffer.readableBytes >= length + 2 else { return nil }
            let bytes = buffer.readSlice(length: length)
            guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .missingCRLF }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            guard let count = try header(&buffer, limit: limits.maxElements) else { return nil }
            guard count >= 0 else { return .array(nil) }
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let element = try value(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw .unknownType(type)
        }
    }

    /// The length line of a bulk string or an array: nil when incomplete, -1 for RESP2's null,
    /// else 0…`limit`.
    private func header(_ buffer: inout ByteBuffer, limit: Int) throws(RESPParseError) -> Int? {
        guard let text = try line(&buffer) else { return nil }
        let length = try Self.integer(text)
        guard length >= -1 else { throw .badLength }
        guard length <= Int64(limit) else { throw .tooLarge }
        return Int(length)
    }

    /// The bytes up to the next CRLF (consumed with it); nil when no CRLF has arrived yet.
    private func line(_ buffer: inout ByteBuffer) throws(RESPParseError) -> ByteBuffer? {
        let view = buffer.readableBytesView
        guard let newline = view.prefix(limits.maxLineBytes + 2).firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > limits.maxLineBytes + 1 { throw .lineTooLong }
            return nil
        }
        let length = newline - view.startIndex
        guard length >= 1, view[newline - 1] == UInt8(ascii: "\r") else { throw .missingCRLF }
        let text = buffer.readSlice(length: length - 1)
        buffer.moveReaderIndex(forwardBy: 2)
        return text
    }

    /// A decimal integer: optional `-`, 1 to 19 digits, within `Int64` (`Int64.min` included).
    private static func integer(_ bytes: ByteBuffer) throws(RESPParseError) -> Int64 {
        var digits = bytes.readableBytesView[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 19 else { throw .badInteger }
        var magnitude: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw .badInteger }
            magnitude = magnitude * 10 + UInt64(byte - UInt8(ascii: "0"))   // 19 digits fit a UInt64
        }
        guard magnitude <= UInt64(Int64.max) + (negative ? 1 : 0) else { throw .badInteger }
        return negative ? Int64(bitPattern: 0 &- magnitude) : Int64(magnitude)
    }
}

/// Why bytes from the store are not RESP2 (the connection is then closed and re-established).
enum RESPParseError: Error, Equatable, Sendable {
    case unknownType(UInt8)
    case badLength
    case badInteger
    case lineTooLong
    case tooDeep
    case tooLarge
    case missingCRLF
}
