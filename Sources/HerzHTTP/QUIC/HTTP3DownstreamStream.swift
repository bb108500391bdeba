import HerzCore
import HerzQUIC
import NIOCore
import NIOHTTP1

/// One HTTP/3 request stream as a downstream of the proxy: the same ``ProxyStream`` (filter
/// chain, router, upstream pools) as HTTP/1.1 and HTTP/2, fed by an ``HTTP3ServerStream``.
///
/// It translates, and decides nothing: request events go to the proxy stream; the proxy's
/// writes, flushes and read pauses go to the HTTP/3 stream (where pausing holds back QUIC flow
/// control credit). Lives on the worker's event loop that owns the QUIC connection.
final class HTTP3DownstreamStream: HTTP3StreamHandler, DownstreamResponder {
    private let worker: Worker
    private let listenerName: String
    private let stream: HTTP3ServerStream
    private var proxy: ProxyStream?
    private var requestComplete = false

    init(worker: Worker, listenerName: String, stream: HTTP3ServerStream) {
        self.worker = worker
        self.listenerName = listenerName
        self.stream = stream
    }

    // MARK: HTTP3StreamHandler

    func receiveHead(_ head: HTTPRequestHead, endStream: Bool) {
        guard let listener = worker.snapshot.listeners[listenerName] else {
            stream.reset(code: HTTP3ErrorCode.requestRejected)
            return
        }
        requestComplete = endStream
        let proxy = ProxyStream(worker: worker, snapshot: worker.snapshot, listener: listener, responder: self,
                                clientAddress: stream.clientAddress, scheme: "https")
        self.proxy = proxy
        proxy.receiveHead(head, endStream: endStream)
        proxy.downstreamReadComplete()
    }

    func receiveBody(_ data: ByteBuffer) {
        guard let proxy else { return }
        proxy.receiveBody(data)
        proxy.downstreamReadComplete()
    }

    func receiveEnd(_ trailers: HTTPHeaders?) {
        requestComplete = true
        guard let proxy else { return }
        proxy.receiveEnd(trailers)
        proxy.downstreamReadComplete()
    }

    func writabilityChanged(isWritable: Bool) {
        proxy?.downstreamWritabilityChanged(isWritable: isWritable)
    }

    func streamAborted() {
        proxy?.downstreamClosed()
        proxy = nil
    }

    // MARK: DownstreamResponder

    func writeResponse(_ part: HTTPServerResponsePart) {
        switch part {
        case .head(let head): stream.writeHead(head)
        case .body(.byteBuffer(let buffer)): stream.writeBody(buffer)
        case .body(.fileRegion): stream.reset()  // never produced by the proxy
        case .end(let trailers): stream.writeEnd(trailers)
        }
    }

    func writeResponseEnd(_ trailers: HTTPHeaders?, thenClose: Bool) {
        stream.writeEnd(trailers)
        // A response sent before the request finished: the rest of the body is not wanted.
        if thenClose && !requestComplete { stream.stopReadingRequest() }
    }

    func flushResponse() { stream.flush() }

    func setRequestReading(_ enabled: Bool) { stream.setReading(enabled) }

    func sendContinue() {
        stream.writeHead(HTTPResponseHead(version: HTTPVersion(major: 3, minor: 0), status: .continue))
    }

    func streamFinished(_ finished: ProxyStream, reset: Bool, closeConnection: Bool) {
        guard proxy === finished else { return }
        proxy = nil
        if reset {
            stream.reset()
        } else {
            if !requestComplete { stream.stopReadingRequest() }
            stream.finish()
        }
        stream.flush()
    }
}

/// HTTP/3 application error codes (RFC 9114 §8.1) the proxy uses.
enum HTTP3ErrorCode {
    static let requestRejected: UInt64 = 0x010b
}

/// Makes an ``HTTP3DownstreamStream`` for each request stream of one listener on one worker.
final class HTTP3DownstreamFactory: HTTP3StreamHandlerFactory {
    private let worker: Worker
    private let listenerName: String

    init(worker: Worker, listenerName: String) {
        self.worker = worker
        self.listenerName = listenerName
    }

    func makeHandler(for stream: HTTP3ServerStream) -> HTTP3StreamHandler {
        HTTP3DownstreamStream(worker: worker, listenerName: listenerName, stream: stream)
    }
}
