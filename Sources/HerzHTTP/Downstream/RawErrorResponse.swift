import NIOCore
import NIOHTTP1

/// The bytes of a complete `HTTP/1.1` error response with `connection: close`, for errors found
/// before a request could be parsed (400, 408, 431). Pure, so it is tested without a channel.
enum RawErrorResponse {
    static func bytes(status: HTTPResponseStatus, reason: String) -> ByteBuffer {
        let body = "\(status.code) \(status.reasonPhrase): \(reason)\n"
        var buffer = ByteBuffer()
        buffer.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
        buffer.writeString("content-type: text/plain\r\ncontent-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n")
        buffer.writeString(body)
        return buffer
    }
}
