import NIOCore
import NIOHTTP1

/// One direction of a stream through the chain. The iteration engine
/// (`FilterManager+Iteration.swift`) is written once, generic over this protocol, and specialised
/// by the compiler for the request and the response path.
protocol FilterDirection {
    associatedtype Head

    /// The peer whose reading is paused when this direction's buffers pass the watermark.
    static var peer: StreamPeer { get }
    static var isDecode: Bool { get }

    /// The filter index (in configuration order) at `position` of this direction; also the inverse.
    static func filterIndex(atPosition position: Int, filterCount: Int) -> Int

    static func callHeaders(_ filter: HTTPFilter, _ head: inout Head, endStream: Bool, _ callbacks: FilterCallbacks) -> FilterHeadersStatus
    static func callData(_ filter: HTTPFilter, _ data: inout ByteBuffer, endStream: Bool, _ callbacks: FilterCallbacks) -> FilterDataStatus
    static func callTrailers(_ filter: HTTPFilter, _ trailers: inout HTTPHeaders, _ callbacks: FilterCallbacks) -> FilterTrailersStatus

    /// A frame passed every filter of this direction.
    static func deliverToTerminal(_ frame: StreamFrame<Head>, manager: FilterManager)
    /// Body buffered on behalf of the filter at `filterIndex` (`…AndBuffer`) went over the limit.
    static func bufferOverflow(manager: FilterManager, filterIndex: Int)
    /// The iteration state of this direction.
    static func iteration(of manager: FilterManager) -> FilterIteration<Self>
}

/// The request path: filters in configuration order, ending at the terminal (router).
enum DecodeDirection: FilterDirection {
    typealias Head = HTTPRequestHead

    static var peer: StreamPeer { .downstream }
    static var isDecode: Bool { true }

    @inline(__always)
    static func filterIndex(atPosition position: Int, filterCount: Int) -> Int { position }

    @inline(__always)
    static func callHeaders(_ filter: HTTPFilter, _ head: inout HTTPRequestHead, endStream: Bool, _ callbacks: FilterCallbacks) -> FilterHeadersStatus {
        filter.decodeHeaders(&head, endStream: endStream, callbacks: callbacks)
    }

    @inline(__always)
    static func callData(_ filter: HTTPFilter, _ data: inout ByteBuffer, endStream: Bool, _ callbacks: FilterCallbacks) -> FilterDataStatus {
        filter.decodeData(&data, endStream: endStream, callbacks: callbacks)
    }

    @inline(__always)
    static func callTrailers(_ filter: HTTPFilter, _ trailers: inout HTTPHeaders, _ callbacks: FilterCallbacks) -> FilterTrailersStatus {
        filter.decodeTrailers(&trailers, callbacks: callbacks)
    }

    static func deliverToTerminal(_ frame: StreamFrame<HTTPRequestHead>, manager: FilterManager) {
        manager.emitRequest(frame)
    }

    static func bufferOverflow(manager: FilterManager, filterIndex: Int) {
        manager.requestBufferOverflow(filterIndex: filterIndex)
    }

    @inline(__always)
    static func iteration(of manager: FilterManager) -> FilterIteration<DecodeDirection> { manager.decoder }
}

/// The response path: filters in reverse configuration order, ending downstream.
enum EncodeDirection: FilterDirection {
    typealias Head = HTTPResponseHead

    static var peer: StreamPeer { .upstream }
    static var isDecode: Bool { false }

    @inline(__always)
    static func filterIndex(atPosition position: Int, filterCount: Int) -> Int { filterCount - 1 - position }

    @inline(__always)
    static func callHeaders(_ filter: HTTPFilter, _ head: inout HTTPResponseHead, endStream: Bool, _ callbacks: FilterCallbacks) -> FilterHeadersStatus {
        filter.encodeHeaders(&head, endStream: endStream, callbacks: callbacks)
    }

    @inline(__always)
    static func callData(_ filter: HTTPFilter, _ data: inout ByteBuffer, endStream: Bool, _ callbacks: FilterCallbacks) -> FilterDataStatus {
        filter.encodeData(&data, endStream: endStream, callbacks: callbacks)
    }

    @inline(__always)
    static func callTrailers(_ filter: HTTPFilter, _ trailers: inout HTTPHeaders, _ callbacks: FilterCallbacks) -> FilterTrailersStatus {
        filter.encodeTrailers(&trailers, callbacks: callbacks)
    }

    static func deliverToTerminal(_ frame: StreamFrame<HTTPResponseHead>, manager: FilterManager) {
        manager.emitResponse(frame)
    }

    static func bufferOverflow(manager: FilterManager, filterIndex: Int) {
        manager.responseBufferOverflow()
    }

    @inline(__always)
    static func iteration(of manager: FilterManager) -> FilterIteration<EncodeDirection> { manager.encoder }
}
