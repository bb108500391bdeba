import NIOCore

/// Writes a Redis command as RESP2 sends it: an array of bulk strings (binary-safe, so keys built
/// from header values need no escaping).
enum RESPCommand {
    static func write(_ parts: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(parts.count)\r\n")
        for part in parts {
            buffer.writeString("$\(part.utf8.count)\r\n")
            buffer.writeString(part)
            buffer.writeString("\r\n")
        }
    }

    static func encode(_ parts: [String], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: parts.reduce(16) { $0 + $1.utf8.count + 16 })
        write(parts, into: &buffer)
        return buffer
    }
}
