import CHerzQUIC
import NIOCore
import NIOPosix

/// Binds one worker's UDP socket for a QUIC listener: `SO_REUSEPORT` so every worker has its own
/// socket on the port (the kernel spreads clients by 4-tuple), batched reads (recvmmsg) and ECN
/// reporting where Linux offers them; NIO batches flushed datagrams into sendmmsg.
public enum QUICListenerSocket {
    public static func bind(host: String, port: Int, on eventLoop: EventLoop, endpoint: QUICEndpoint) -> EventLoopFuture<Channel> {
        // Created off the loop (kernel start-up), then touched only on it by the channel.
        let endpointBox = UncheckedTransfer(endpoint)
        return DatagramBootstrap(group: eventLoop)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.Types.SocketOption(level: .init(rawValue: SOL_SOCKET), name: .init(rawValue: SO_REUSEPORT)), value: 1)
            .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: 16)
            .channelOption(ChannelOptions.maxMessagesPerRead, value: 4)
            .channelOption(ChannelOptions.explicitCongestionNotification, value: true)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 2048))
            .channelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHandler(endpointBox.value)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: host, port: port)
    }
}

/// Hands a value to a channel initializer that runs on the value's own event loop.
struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
