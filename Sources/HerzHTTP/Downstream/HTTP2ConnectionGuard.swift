import NIOCore
import NIOHTTP2

/// Closes an HTTP/2 connection once NIO's HTTP/2 handler has reported a connection error.
///
/// NIO detects floods (rapid reset, PING/SETTINGS/CONTINUATION floods, too many glitches) and
/// protocol violations, sends GOAWAY, and leaves closing to the application — without this guard
/// the connection stays open and every further frame is still read and parsed. Stream-level errors
/// (answered with RST_STREAM) do not close the connection.
final class HTTP2ConnectionGuard: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    static func isConnectionError(_ error: Error) -> Bool {
        switch error {
        case is NIOHTTP2Errors.StreamError, is NIOHTTP2Errors.NoSuchStream, is NIOHTTP2Errors.StreamClosed:
            return false
        default:
            return true
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if Self.isConnectionError(error) {
            // Let the GOAWAY NIO queued go out first, then close.
            context.flush()
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }
}
