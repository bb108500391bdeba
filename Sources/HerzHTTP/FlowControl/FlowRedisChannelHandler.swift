import NIOCore

/// What a ``FlowRedisChannelHandler`` reports to its owner (the ``FlowRedisClient``), on the event loop.
protocol FlowRedisReplyReceiver: AnyObject {
    func received(_ reply: RESPValue, on channel: Channel)
    /// Bytes that are not RESP2, or a reply that breaks the limits: the handler closes the channel.
    func protocolError(_ error: Error, on channel: Channel)
    func closed(_ channel: Channel)
}

/// The one handler of a Redis connection: bytes in, whole replies out (through ``RESPParser``),
/// nothing else. A parse error closes the connection: after a byte that is not RESP2 no later reply
/// can be matched to its command. Event-loop owned; holds its receiver weakly.
final class FlowRedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private weak var receiver: FlowRedisReplyReceiver?
    private let parser: RESPParser
    private var buffered: ByteBuffer?

    init(receiver: FlowRedisReplyReceiver, parser: RESPParser = RESPParser()) {
        self.receiver = receiver
        self.parser = parser
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var held = buffered {
            buffered = nil
            held.writeBuffer(&bytes)
            bytes = held
        }
        do {
            while bytes.readableBytes > 0, let reply = try parser.parse(&bytes) {
                receiver?.received(reply, on: context.channel)
            }
        } catch {
            receiver?.protocolError(error, on: context.channel)
            context.close(promise: nil)
            return
        }
        if bytes.readableBytes > 0 {
            bytes.discardReadBytes()
            buffered = bytes
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        buffered = nil
        receiver?.closed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
