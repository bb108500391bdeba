import Foundation
import HerzCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin listener (its own address and event loop, never on the data path):
/// `GET /healthz /readyz /metrics /config_dump /clusters /status`, `POST /reload`.
struct AdminServer {
    let kernel: HerzKernel

    func bind(_ address: HostPort, group: EventLoopGroup) throws -> Channel {
        let kernel = self.kernel
        return try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(AdminHandler(kernel: kernel))
                }
            }
            .bind(host: address.host, port: address.port)
            .wait()
    }
}

/// Answers one admin request at a time; each response is built by ``AdminRoutes``.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let kernel: HerzKernel
    private var head: HTTPRequestHead?

    init(kernel: HerzKernel) { self.kernel = kernel }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            // Answer off the event loop: a reload validates files and binds listeners (blocking
            // work that must never run on an event loop). One serial queue also serialises reloads.
            let kernel = self.kernel
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            AdminHandler.queue.async {
                let response = AdminRoutes(kernel: kernel).respond(method: head.method, path: head.uri)
                eventLoop.execute { AdminHandler.write(response, for: head, context: loopBound.value) }
            }
        }
    }

    static let queue = DispatchQueue(label: "herz.admin")

    private static func write(_ response: AdminRoutes.Response, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.utf8.count))
        if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        let wrap = { (part: HTTPServerResponsePart) in NIOAny(part) }
        context.write(wrap(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        context.write(wrap(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrap(.end(nil))).whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}

/// The admin API's routes as a pure function of the kernel's state.
struct AdminRoutes {
    let kernel: HerzKernel

    struct Response {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
    }

    func respond(method: HTTPMethod, path: String) -> Response {
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        switch (method, route) {
        case (.GET, "/healthz"):
            return Response(status: .ok, contentType: "text/plain", body: "ok\n")
        case (.GET, "/readyz"):
            let ready = kernel.ready.load(ordering: .acquiring)
            return Response(status: ready ? .ok : .serviceUnavailable, contentType: "text/plain", body: ready ? "ready\n" : "not ready\n")
        case (.GET, "/metrics"):
            return Response(status: .ok, contentType: "text/plain; version=0.0.4", body: MetricsExposition(kernel: kernel).render())
        case (.GET, "/config_dump"):
            return Response(status: .ok, contentType: "application/json", body: kernel.currentSnapshot.config.redactedDump())
        case (.GET, "/clusters"):
            return Response(status: .ok, contentType: "application/json", body: clustersJSON())
        case (.GET, "/status"):
            return Response(status: .ok, contentType: "application/json", body: statusJSON())
        case (.GET, "/flow/clusters"):
            return Response(status: .ok, contentType: "application/json", body: flowClustersJSON())
        case (.GET, "/coprocessors"):
            return Response(status: .ok, contentType: "application/json", body: coprocessorsJSON())
        case (.POST, _) where route.hasPrefix("/coprocessors/") && route.hasSuffix("/reload"):
            let name = String(route.dropFirst("/coprocessors/".count).dropLast("/reload".count))
            return coprocessorReload(name: name)
        case (.POST, _) where route.hasPrefix("/coprocessors/") && route.hasSuffix("/drain"):
            let name = String(route.dropFirst("/coprocessors/".count).dropLast("/drain".count))
            guard kernel.coprocessors.requestDrain(name: name) else {
                return Response(status: .notFound, contentType: "text/plain", body: "no coprocessor named \(name)\n")
            }
            return Response(status: .accepted, contentType: "text/plain",
                            body: "coprocessor \(name): a new session is attached, then the current one drains\n")
        case (.POST, "/reload"):
            switch kernel.reload() {
            case .success(let generation):
                return Response(status: .ok, contentType: "text/plain", body: "reloaded: generation \(generation)\n")
            case .failure(let error):
                return Response(status: .badRequest, contentType: "text/plain", body: "reload rejected; previous config still serving\n\(error)\n")
            }
        case (_, "/healthz"), (_, "/readyz"), (_, "/metrics"), (_, "/config_dump"), (_, "/clusters"), (_, "/status"), (_, "/reload"),
             (_, "/coprocessors"), (_, "/flow/clusters"):
            return Response(status: .methodNotAllowed, contentType: "text/plain", body: "method not allowed\n")
        default:
            return Response(status: .notFound, contentType: "text/plain",
                            body: "admin endpoints: /healthz /readyz /metrics /config_dump /clusters /status /coprocessors /flow/clusters, POST /reload, POST /coprocessors/NAME/drain, POST /coprocessors/NAME/reload\n")
        }
    }

    func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    func statusJSON() -> String {
        encode(kernel.status())
    }

    struct ClustersBody: Encodable {
        struct Cluster: Encodable {
            let name: String
            let lbPolicy: String
            let upstreamProtocol: String
            let activeRequests: Int
            let connections: Int
            let endpoints: [Endpoint]
        }
        struct Endpoint: Encodable {
            let address: String
            let weight: Int
            let metadata: [String: String]
            let healthy: Bool
            let ejected: Bool
            let activeRequests: Int
            let requests: Int
            let failures: Int
            let ejections: Int
        }
        let clusters: [Cluster]
    }

    func clustersJSON() -> String {
        let snapshot = kernel.currentSnapshot
        let clusters = snapshot.config.clusters.compactMap { config -> ClustersBody.Cluster? in
            guard let shared = snapshot.clusters[config.name] else { return nil }
            shared.unejectIfDue()
            let endpoints = config.endpoints.enumerated().map { i, e in
                let stats = shared.endpointStats[i]
                return ClustersBody.Endpoint(address: e.address.description, weight: e.weight, metadata: e.metadata,
                                             healthy: shared.healthy[i].load(ordering: .relaxed), ejected: stats.ejected.load(ordering: .relaxed),
                                             activeRequests: stats.activeRequests.load(ordering: .relaxed), requests: stats.requests.load(ordering: .relaxed),
                                             failures: stats.failures.load(ordering: .relaxed), ejections: stats.ejections.load(ordering: .relaxed))
            }
            return ClustersBody.Cluster(name: config.name, lbPolicy: config.lbPolicy.rawValue, upstreamProtocol: config.upstreamProtocol.rawValue,
                                        activeRequests: shared.activeRequests.load(ordering: .relaxed),
                                        connections: shared.connections.load(ordering: .relaxed), endpoints: endpoints)
        }
        return encode(ClustersBody(clusters: clusters))
    }
}

/// The version string reported by `/status` and `--version`.
public enum HerzVersion {
    public static let string = "0.1.0"
}
