import NIOCore
import NIOHTTP1

/// One HTTP filter instance, created per stream by a ``HTTPFilterFactory``.
///
/// Decode callbacks see the request in filter order; encode callbacks see the response in reverse
/// filter order. Every callback runs on the stream's event loop and must not block. A filter that
/// needs to wait (a coprocessor answer, a timer) returns a stop status, keeps the
/// ``FilterCallbacks`` it was given, and later calls `continueDecoding()`/`continueEncoding()` or
/// `sendLocalReply` on the same event loop.
///
/// Every method has a default that passes the message on unchanged, so a filter implements only the
/// phases it cares about.
public protocol HTTPFilter: AnyObject {
    func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus
    func decodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus
    func decodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus

    func encodeHeaders(_ head: inout HTTPResponseHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus
    func encodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus
    func encodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus

    /// Called once when the stream ends for any reason (complete, reset, local reply). After it,
    /// the filter is never called again and must drop its callbacks.
    func onStreamComplete()

    /// The filter's name in trace spans (default: its type name; FilterManager+Tracing).
    var traceName: String { get }
}

extension HTTPFilter {
    public func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus { .continue }
    public func decodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus { .continue }
    public func decodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus { .continue }
    public func encodeHeaders(_ head: inout HTTPResponseHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus { .continue }
    public func encodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus { .continue }
    public func encodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus { .continue }
    public func onStreamComplete() {}
}

/// Builds the filter instances of one stream. A factory is created once per config generation and
/// listener, is shared by every worker (hence `Sendable`), and holds any cross-stream state (e.g.
/// a rate-limit bucket) behind its own synchronisation.
public protocol HTTPFilterFactory: Sendable {
    /// The filter type name as written in the config (`header_mutation`, `buffer`, …).
    var filterType: String { get }
    /// A new filter for one stream. `streamInfo.route` is already resolved when this is called.
    func makeFilter(streamInfo: StreamInfo) -> HTTPFilter

    /// Decides the stream from its request head alone when it can (``HeadDecision``), before any
    /// filter exists; asked only while every filter before this one was left out the same way.
    /// Default: `.runFilter`.
    func decideOnHead(_ head: HTTPRequestHead, streamInfo: StreamInfo) -> HeadDecision
}

extension HTTPFilterFactory {
    public func decideOnHead(_ head: HTTPRequestHead, streamInfo: StreamInfo) -> HeadDecision { .runFilter }
}
