import NIOCore
import NIOHTTP1

/// `buffer`: holds the request until its body is complete, so the upstream receives headers with a
/// `content-length` and the whole body in one chunk.
///
/// - A request whose `content-length` exceeds `maxRequestBytes` gets a local 413 at header time,
///   before any body is read.
/// - A streamed (chunked) body that grows past `maxRequestBytes` gets a local 413 as soon as it does.
///   (The manager's own buffer limit applies too: whichever is smaller wins.)
/// - When the body ends with its last chunk, `content-length` is set to the body size and
///   `transfer-encoding` removed; a body ended by trailers is forwarded as is (trailers need chunked
///   framing).
public final class BufferFilter: HTTPFilter {
    public let maxRequestBytes: Int
    private var receivedBytes = 0

    public init(maxRequestBytes: Int) {
        self.maxRequestBytes = maxRequestBytes
    }

    public func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        if endStream { return .continue }
        if let declared = head.headers.first(name: "content-length").flatMap({ Int($0) }), declared > self.maxRequestBytes {
            callbacks.sendLocalReply(status: .payloadTooLarge, body: "request body too large")
        }
        return .stopIteration
    }

    public func decodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus {
        self.receivedBytes += data.readableBytes
        if self.receivedBytes > self.maxRequestBytes {
            callbacks.sendLocalReply(status: .payloadTooLarge, body: "request body too large")
            return .stopIterationNoBuffer
        }
        guard endStream else { return .stopIterationAndBuffer }
        let length = String(self.receivedBytes)
        callbacks.modifyHeldRequestHead { head in
            head.headers.remove(name: "transfer-encoding")
            head.headers.replaceOrAdd(name: "content-length", value: length)
        }
        // Continue releases the held headers and the buffered body together with this last chunk.
        return .continue
    }

    public func decodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus {
        .continue
    }
}

/// Builds a ``BufferFilter`` per stream.
public struct BufferFilterFactory: HTTPFilterFactory {
    public let config: BufferFilterConfig
    public var filterType: String { "buffer" }

    public init(config: BufferFilterConfig) {
        self.config = config
    }

    public func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        BufferFilter(maxRequestBytes: self.config.maxRequestBytes)
    }
}
