import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// A bound demo upstream: one listening socket served by an event loop group.
///
/// Each accepted connection gets NIO's HTTP/1 server pipeline (with pipelining assistance and
/// protocol-error handling) followed by one `DemoRequestHandler`; in `.h2c` mode it gets the
/// HTTP/2 pipeline (prior knowledge, no upgrade) and each stream gets
/// `HTTP2FramePayloadToHTTP1ServerCodec` followed by the same handler.
///
/// The caller owns the group; `bind` returns once the socket is listening.
struct DemoUpstreamServer {
    /// Wire protocol spoken on the listening socket.
    enum WireProtocol: String {
        case http1
        case h2c
    }

    let name: String
    let wireProtocol: WireProtocol
    let group: EventLoopGroup

    /// Binds `host:port` (port 0 picks a free one) and returns the listening channel.
    func bind(host: String, port: Int) throws -> Channel {
        let responses = DemoResponses(name: name)
        let state = UpstreamState(group: group)
        let wireProtocol = self.wireProtocol

        return try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    switch wireProtocol {
                    case .http1:
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                            withPipeliningAssistance: true, withErrorHandling: true
                        )
                        try channel.pipeline.syncOperations.addHandler(
                            DemoRequestHandler(responses: responses, shared: state)
                        )
                    case .h2c:
                        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .server,
                            connectionConfiguration: .init(),
                            streamConfiguration: .init()
                        ) { stream in
                            stream.eventLoop.makeCompletedFuture {
                                try stream.pipeline.syncOperations.addHandlers(
                                    HTTP2FramePayloadToHTTP1ServerCodec(),
                                    DemoRequestHandler(responses: responses, shared: state)
                                )
                            }
                        }
                    }
                }
            }
            .bind(host: host, port: port)
            .wait()
    }
}
