import NIOCore
import NIOHTTP1

/// Response bodies and header sets built once at start-up and shared, read-only, by every
/// connection on every event loop.
///
/// `ByteBuffer` and `HTTPHeaders` are copy-on-write values, so handing them to a channel costs a
/// reference-count bump, never a copy: the `/small` hot path allocates no body and no headers.
struct DemoResponses: Sendable {
    /// Chunk size for `/bytes/N` streaming.
    static let chunkSize = 64 * 1024

    /// The server's name, as shown in `hello from NAME` and `x-upstream`.
    let name: String
    /// `Hello, World!` (13 bytes), the `/small` body.
    let smallBody: ByteBuffer
    /// Headers of the `/small` response.
    let smallHeaders: HTTPHeaders
    /// `hello from NAME\n`.
    let helloBody: ByteBuffer
    /// Headers of the `hello` response.
    let helloHeaders: HTTPHeaders
    /// 64 KiB of `x`, sliced for the last chunk of `/bytes/N`.
    let chunk: ByteBuffer
    /// Headers every other response starts from: just `x-upstream`.
    let baseHeaders: HTTPHeaders

    init(name: String) {
        let allocator = ByteBufferAllocator()
        self.name = name
        self.smallBody = allocator.buffer(string: "Hello, World!")
        self.helloBody = allocator.buffer(string: "hello from \(name)\n")
        var chunk = allocator.buffer(capacity: Self.chunkSize)
        chunk.writeRepeatingByte(UInt8(ascii: "x"), count: Self.chunkSize)
        self.chunk = chunk
        self.baseHeaders = HTTPHeaders([("x-upstream", name)])
        self.smallHeaders = HTTPHeaders([
            ("content-type", "text/plain"), ("content-length", "13"), ("x-upstream", name),
        ])
        self.helloHeaders = HTTPHeaders([
            ("content-type", "text/plain"),
            ("content-length", String(self.helloBody.readableBytes)),
            ("x-upstream", name),
        ])
    }

    /// Base headers plus a content type and, when the length is known, a content length.
    func headers(contentType: String?, contentLength: Int?) -> HTTPHeaders {
        var h = baseHeaders
        if let contentType { h.add(name: "content-type", value: contentType) }
        if let contentLength { h.add(name: "content-length", value: String(contentLength)) }
        return h
    }
}
