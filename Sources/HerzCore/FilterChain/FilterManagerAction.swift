import NIOCore
import NIOHTTP1

/// Which peer a flow-control action is about.
public enum StreamPeer: Sendable, Equatable {
    /// The client side: the request body comes from it, the response goes to it.
    case downstream
    /// The upstream side: the response body comes from it.
    case upstream
}

/// Why the manager gave up on a stream without a response.
public enum StreamResetReason: Sendable, Equatable {
    /// A local reply was needed after the response headers had already gone downstream.
    case localReplyAfterResponseStarted
    /// The response body overflowed the buffer limit after the response had started.
    case responseBufferOverflow
    /// The I/O layer reported a reset (upstream or downstream) via ``FilterManager/resetStream(_:)``.
    case peerReset
}

/// What the ``FilterManager`` asks the I/O layer to do, delivered in order to its
/// ``FilterManagerSink``. The manager performs no I/O itself.
public enum FilterManagerAction {
    /// The request headers passed every filter: hand them to the terminal (router → upstream).
    case forwardRequestHead(HTTPRequestHead, endStream: Bool)
    /// A request body chunk passed every filter.
    case forwardRequestData(ByteBuffer, endStream: Bool)
    /// The request trailers passed every filter (they end the request).
    case forwardRequestTrailers(HTTPHeaders)
    /// The response headers passed every encoder filter: write them downstream.
    case sendResponseHead(HTTPResponseHead, endStream: Bool)
    /// A response body chunk passed every encoder filter.
    case sendResponseData(ByteBuffer, endStream: Bool)
    /// The response trailers passed every encoder filter (they end the response).
    case sendResponseTrailers(HTTPHeaders)
    /// Stop reading from a peer: a watermark buffer is over its limit.
    case pauseReading(StreamPeer)
    /// Reading from the peer may resume: the buffer drained below the low watermark.
    case resumeReading(StreamPeer)
    /// A local reply replaced the upstream exchange: cancel any upstream request of this stream.
    case cancelUpstream
    /// The stream cannot complete normally: reset it downstream (HTTP/2 RST_STREAM, or close the
    /// HTTP/1.1 connection) — never a truncated response that looks complete.
    case resetStream(StreamResetReason)
    /// The stream is finished (response fully sent or stream reset); no further action will follow.
    case streamComplete
}

/// Receives the manager's actions. Implemented by the per-stream I/O adapter (and by a recorder in
/// tests). Called synchronously on the stream's event loop.
public protocol FilterManagerSink: AnyObject {
    func filterManager(_ manager: FilterManager, perform action: FilterManagerAction)
}
