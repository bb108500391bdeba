import NIOCore
import NIOHTTP1

/// The handle a filter uses to talk back to its ``FilterManager``.
///
/// Calls made *during* one of the filter's own callbacks are recorded and take effect right after
/// that callback returns (so a filter can never re-enter the chain, and a local reply triggered while
/// a filter runs tears the chain down only after it returns). Calls made *outside* any callback
/// (asynchronously, on the stream's event loop) take effect immediately. Calls made after the stream
/// completed are ignored, and so is a `continue…()` from a filter that is not currently stopped.
///
/// One handle exists per filter position and stream; it refers to its manager weakly, so a filter
/// that keeps it after `onStreamComplete()` can still call it harmlessly.
public protocol FilterCallbacks: AnyObject {
    /// Facts about the stream shared by all filters: route, client address, metadata.
    var streamInfo: StreamInfo { get }

    /// Resume a decode iteration this filter stopped: held headers go on to the next filter, then
    /// the body buffered behind this filter, then held trailers; after `stopAllIteration…` the body
    /// buffered *before* this filter is first handed to its `decodeData`. If the filter kept the end
    /// of the request (`continueAndDontEndStream`, or `stopIterationNoBuffer` on the last chunk),
    /// an empty final chunk ends it. A no-op when the filter is not stopped.
    func continueDecoding()
    /// Resume an encode iteration this filter stopped.
    func continueEncoding()

    /// Append bytes to the request body at this filter's position. During `decodeData` they are
    /// appended to the chunk being processed; during `decodeHeaders`/`decodeTrailers`, or while the
    /// filter is stopped, they are buffered and delivered to the next filter (after the headers,
    /// before the trailers) when iteration continues.
    func addDecodedData(_ data: ByteBuffer)
    /// As ``addDecodedData(_:)`` for the response body.
    func addEncodedData(_ data: ByteBuffer)

    /// Hand data straight to the filters after this one, without buffering (for filters that
    /// returned `stopIterationNoBuffer` or `continueAndDontEndStream`), even while this filter holds
    /// its own output. Frames already queued after this filter (held headers, buffered body) are never
    /// overtaken: then the data joins that queue. Ignored before this filter has seen the headers or
    /// once the end of the message has left it.
    func injectDecodedData(_ data: ByteBuffer, endStream: Bool)
    func injectEncodedData(_ data: ByteBuffer, endStream: Bool)

    /// The body the manager currently holds behind this filter (what it stopped with
    /// `stopIterationAndBuffer`/`…Watermark`, or added while stopped) in the request/response
    /// direction. Read-only view; `nil` when empty.
    var decodingBuffer: ByteBuffer? { get }
    var encodingBuffer: ByteBuffer? { get }

    /// End the stream with a locally generated response (`content-type: text/plain`,
    /// `content-length`, then `headers`, then `body`). The decode chain stops and an upstream request
    /// already under way is cancelled. While the request is being decoded the response runs through
    /// the encode path of the filters *before* this one (in reverse order); once the response has
    /// started (an encode callback, or the terminal already answered) it is sent directly, skipping
    /// the encoder filters. If the response headers already went downstream, the stream is reset
    /// instead.
    func sendLocalReply(status: HTTPResponseStatus, body: String, headers: HTTPHeaders)

    /// Edit the request head this filter holds (it returned `stopIteration` or `stopAllIteration…`
    /// from `decodeHeaders` and has not continued yet), e.g. to set `content-length` once the whole
    /// body is buffered. Returns false when no head is held here. `edit` must not call back into
    /// these callbacks (such calls are ignored).
    @discardableResult
    func modifyHeldRequestHead(_ edit: (inout HTTPRequestHead) -> Void) -> Bool
    /// As ``modifyHeldRequestHead(_:)`` for the response head.
    @discardableResult
    func modifyHeldResponseHead(_ edit: (inout HTTPResponseHead) -> Void) -> Bool

    /// Edit the request trailers this filter holds (it returned `stopIteration` from
    /// `decodeTrailers` and has not continued yet), e.g. to apply an answer that arrived later.
    /// Returns false when no trailers are held here. Same rules as ``modifyHeldRequestHead(_:)``.
    @discardableResult
    func modifyHeldRequestTrailers(_ edit: (inout HTTPHeaders) -> Void) -> Bool
    /// As ``modifyHeldRequestTrailers(_:)`` for the response trailers.
    @discardableResult
    func modifyHeldResponseTrailers(_ edit: (inout HTTPHeaders) -> Void) -> Bool
}

extension FilterCallbacks {
    @discardableResult
    public func modifyHeldRequestHead(_ edit: (inout HTTPRequestHead) -> Void) -> Bool { false }
    @discardableResult
    public func modifyHeldResponseHead(_ edit: (inout HTTPResponseHead) -> Void) -> Bool { false }
    @discardableResult
    public func modifyHeldRequestTrailers(_ edit: (inout HTTPHeaders) -> Void) -> Bool { false }
    @discardableResult
    public func modifyHeldResponseTrailers(_ edit: (inout HTTPHeaders) -> Void) -> Bool { false }

    public func sendLocalReply(status: HTTPResponseStatus, body: String = "") {
        self.sendLocalReply(status: status, body: body, headers: HTTPHeaders())
    }
}
