import NIOCore

/// Sits in front of NIO's HTTP/2 handler on a connection that just upgraded from HTTP/1.1, and
/// feeds it the client's first bytes with the upgrade request spliced in as stream 1 (see
/// ``H2CPrefaceSplicer``). Removes itself once it has released them: the HTTP/2 connection then
/// runs exactly like a prior-knowledge one.
///
/// Owned by the connection's pipeline; all calls on its event loop.
final class H2CStreamOneInjector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var splicer: H2CPrefaceSplicer
    private var released = false

    init(splicer: H2CPrefaceSplicer) { self.splicer = splicer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !released else {
            context.fireChannelRead(data)
            return
        }
        switch splicer.receive(unwrapInboundIn(data)) {
        case .needMoreBytes:
            return
        case .release(let bytes):
            released = true
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}
