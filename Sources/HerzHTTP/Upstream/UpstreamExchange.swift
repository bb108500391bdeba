import NIOCore
import NIOHTTP1

/// One request/response in flight to an upstream: an HTTP/1.1 connection borrowed from the pool, or a
/// fresh HTTP/2 stream. Owned by one ``ProxyStream`` on its worker's event loop; ends with exactly
/// one ``release(reusable:)``.
final class UpstreamExchange {
    let handler: UpstreamExchangeHandler
    let channel: Channel
    let endpoint: Int
    private weak var pool: EndpointPool?
    private let isHTTP2Stream: Bool
    private var released = false

    init(handler: UpstreamExchangeHandler, channel: Channel, endpoint: Int, pool: EndpointPool?, isHTTP2Stream: Bool) {
        self.handler = handler
        self.channel = channel
        self.endpoint = endpoint
        self.pool = pool
        self.isHTTP2Stream = isHTTP2Stream
    }

    func attach(_ delegate: UpstreamResponseDelegate) { handler.delegate = delegate }

    func writeHead(_ head: HTTPRequestHead, hasBody: Bool) { handler.writeHead(head, hasBody: hasBody) }
    /// A body chunk or the end of the request (not flushed).
    func write(_ part: HTTPClientRequestPart) { handler.write(part) }
    func flush() { handler.flush() }
    var isWritable: Bool { handler.isWritable }
    func setReading(_ enabled: Bool) { handler.setReading(enabled) }

    /// Ends the exchange. `reusable` means request and response both completed cleanly and the
    /// upstream allows keep-alive; otherwise the connection (or HTTP/2 stream) is closed.
    func release(reusable: Bool) {
        guard !released else { return }
        released = true
        handler.delegate = nil
        if isHTTP2Stream {
            if !reusable { channel.close(promise: nil) }  // RST_STREAM for an unfinished stream
            return
        }
        // A connection paused by backpressure must read again before its next exchange.
        if reusable { handler.setReading(true) }
        pool?.release(self, reusable: reusable)
        if pool == nil { channel.close(promise: nil) }
    }
}
