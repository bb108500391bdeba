import NIOCore
import NIOHTTP1

/// Receives one HTTP/3 request stream's events; implemented by the proxy (HerzHTTP), which answers
/// through the ``HTTP3ServerStream`` it was created for. Called on the connection's event loop,
/// never re-entered for the same stream.
public protocol HTTP3StreamHandler: AnyObject {
    /// The request's header section; `endStream` when no body follows.
    func receiveHead(_ head: HTTPRequestHead, endStream: Bool)
    func receiveBody(_ data: ByteBuffer)
    /// The request ended (with trailers, if any).
    func receiveEnd(_ trailers: HTTPHeaders?)
    /// The stream's response buffer crossed a watermark: stop (`false`) or resume feeding it.
    func writabilityChanged(isWritable: Bool)
    /// The stream is gone before the handler finished it (peer reset, STOP_SENDING, connection
    /// closed or timed out). Nothing written afterwards is sent.
    func streamAborted()
}

/// Makes a handler for each new request stream of a listener.
public protocol HTTP3StreamHandlerFactory: AnyObject {
    func makeHandler(for stream: HTTP3ServerStream) -> HTTP3StreamHandler
}
