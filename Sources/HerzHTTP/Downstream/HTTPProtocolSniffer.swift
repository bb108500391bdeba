import NIOCore

/// Tells HTTP/2 prior-knowledge connections (`PRI * HTTP/2.0…` preface) from HTTP/1.1 on a
/// cleartext listener by looking at the first bytes, installs the matching pipeline, and removes
/// itself. It costs nothing after the first read.
final class HTTPProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Decision: Equatable { case http1, http2, needMoreBytes }

    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Pure decision on the bytes seen so far.
    static func decide(_ bytes: ByteBuffer) -> Decision {
        let count = min(bytes.readableBytes, preface.count)
        guard let seen = bytes.getBytes(at: bytes.readerIndex, length: count) else { return .needMoreBytes }
        if seen != Array(preface[0..<count]) { return .http1 }
        return count == preface.count ? .http2 : .needMoreBytes
    }

    private var buffered: ByteBuffer?
    private let configureHTTP1: (Channel) throws -> Void
    private let configureHTTP2: (Channel) throws -> Void

    init(http1: @escaping (Channel) throws -> Void, http2: @escaping (Channel) throws -> Void) {
        self.configureHTTP1 = http1
        self.configureHTTP2 = http2
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if var existing = buffered {
            existing.writeBuffer(&incoming)
            buffered = existing
        } else {
            buffered = incoming
        }
        let decision = Self.decide(buffered!)
        guard decision != .needMoreBytes else { return }
        do {
            if decision == .http2 { try configureHTTP2(context.channel) } else { try configureHTTP1(context.channel) }
        } catch {
            context.close(promise: nil)
            return
        }
        let bytes = buffered!
        buffered = nil
        context.fireChannelRead(wrapInboundOut(bytes))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
