import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking, one-request-per-connection HTTP/1.1 client for the admin API.
///
/// Guarantees: `send` returns the complete answer or throws an `AdminClientError`; it never
/// waits longer than `timeoutSeconds` overall. It blocks the calling thread (herzctl is a
/// command-line tool) and must not be called on an event loop.
struct AdminClient {
    let endpoint: AdminEndpoint
    let timeoutSeconds: Double

    /// `GET path`.
    func get(_ path: String) throws -> AdminResponse {
        try send(method: .GET, path: path)
    }

    /// `POST path` with an optional body.
    func post(_ path: String, body: String = "") throws -> AdminResponse {
        try send(method: .POST, path: path, body: body)
    }

    /// Sends one request on a fresh connection and waits for the whole answer.
    func send(method: HTTPMethod, path: String, body: String = "") throws -> AdminResponse {
        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let timeout = TimeAmount.nanoseconds(Int64(timeoutSeconds * 1_000_000_000))
        let answer = eventLoop.makePromise(of: AdminResponse.self)
        let endpoint = self.endpoint

        let connect = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        AdminResponseCollector(answer: answer, url: endpoint.url)
                    )
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)

        let channel: Channel
        do {
            channel = try connect.wait()
        } catch {
            answer.fail(error)
            throw AdminClientError.unreachable(url: endpoint.url, reason: Self.describe(error))
        }

        var headers = HTTPHeaders()
        headers.add(name: "host", value: endpoint.hostHeader)
        headers.add(name: "user-agent", value: "herzctl")
        headers.add(name: "accept", value: "application/json, text/plain")
        headers.add(name: "connection", value: "close")
        headers.add(name: "content-length", value: String(body.utf8.count))
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: endpoint.basePath + path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)

        let timer = eventLoop.scheduleTask(in: timeout) {
            answer.fail(AdminClientError.timedOut(url: endpoint.url, seconds: self.timeoutSeconds))
        }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        do {
            return try answer.futureResult.wait()
        } catch let error as AdminClientError {
            throw error
        } catch {
            throw AdminClientError.brokenResponse(url: endpoint.url, reason: Self.describe(error))
        }
    }

    /// A short human reason for a connection error, e.g. `Connection refused`.
    static func describe(_ error: Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first {
                return describe(first.error)
            }
            if let dns = error.dnsAAAAError ?? error.dnsAError {
                return "cannot resolve \(error.host): \(dns)"
            }
            return "cannot connect to \(error.host):\(error.port)"
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
        }
        if error is ChannelError, case ChannelError.connectTimeout = error {
            return "connection timed out"
        }
        return "\(error)"
    }
}

/// Collects one HTTP response (head and body) into `answer`, then closes the channel.
///
/// Owned by the client channel's event loop. Fails `answer` if the channel closes or errors
/// before `.end`; completing a promise twice is prevented by `done`.
final class AdminResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let answer: EventLoopPromise<AdminResponse>
    private let url: String
    private var status = 0
    private var body = ByteBuffer()
    private var done = false

    init(answer: EventLoopPromise<AdminResponse>, url: String) {
        self.answer = answer
        self.url = url
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard !done else { return }
            done = true
            answer.succeed(AdminResponse(status: status, body: String(buffer: body)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finishWithError(AdminClientError.brokenResponse(url: url, reason: AdminClient.describe(error)))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishWithError(AdminClientError.brokenResponse(url: url, reason: "connection closed before a complete answer"))
        context.fireChannelInactive()
    }

    private func finishWithError(_ error: AdminClientError) {
        guard !done else { return }
        done = true
        answer.fail(error)
    }
}
