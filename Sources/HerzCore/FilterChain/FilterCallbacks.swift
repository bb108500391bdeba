import NIOCore
import NIOHTTP1

/// The handle a filter uses to talk back to its ``FilterManager``.
///
/// Calls made *during* one of the filter's own callbacks are recorded and take effect right after
/// that callback returns (so a filter can never re-enter the chain, and a local reply triggered while
/// a filter runs tears the chain down only after it returns). Calls made *outside* any callback
/// (asynchronously, on the stream's event loop) take effect immediately. Calls made after the stream
/// completed, or by a filter that is not currently stopped, are ignored.
public protocol FilterCallbacks: AnyObject {
    /// Facts about the stream shared by all filters: route, client address, metadata.
    var streamInfo: StreamInfo { get }

    /// Resume a decode iteration this filter stopped.
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
    /// returned `stopIterationNoBuffer` or `continueAndDontEndStream`). Only valid once the headers
    /// have passed this filter.
    func injectDecodedData(_ data: ByteBuffer, endStream: Bool)
    func injectEncodedData(_ data: ByteBuffer, endStream: Bool)

    /// The bytes the manager currently buffers at this filter's position in the request/response
    /// direction (read-only view; `nil` when empty).
    var decodingBuffer: ByteBuffer? { get }
    var encodingBuffer: ByteBuffer? { get }

    /// End the stream with a locally generated response. The decode chain stops; the response runs
    /// through the encode path of the filters *before* this one (in reverse order). If the response
    /// headers already went downstream, the stream is reset instead.
    func sendLocalReply(status: HTTPResponseStatus, body: String, headers: HTTPHeaders)
}

extension FilterCallbacks {
    public func sendLocalReply(status: HTTPResponseStatus, body: String = "") {
        self.sendLocalReply(status: status, body: body, headers: HTTPHeaders())
    }
}
