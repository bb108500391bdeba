import Benchmark
import HerzCore
import NIOCore
import NIOHTTP1

/// The pure part of one proxied request, as the kernel runs it: route match, filter manager with
/// no filters (headers and a 13-byte response through both paths), and the proxy header rules.
/// Malloc counts per iteration are the number to watch (`mallocCountTotal`).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .instructions], maxDuration: .seconds(2))

    let router = RouterConfig(virtualHosts: [
        VirtualHostConfig(name: "api", domains: ["api.example.com"], routes: [
            RouteEntry(name: "v1", match: RouteMatch(path: .prefix("/v1")), action: .cluster("v1")),
            RouteEntry(name: "all", match: RouteMatch(path: .prefix("/")), action: .cluster("backend")),
        ]),
        VirtualHostConfig(name: "all", domains: ["*"], routes: [
            RouteEntry(name: "all", match: RouteMatch(path: .prefix("/")), action: .cluster("backend")),
        ]),
    ])
    let table = try! RouteTable(router: router)
    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/small",
                               headers: HTTPHeaders([("host", "example.org"), ("user-agent", "wrk"), ("accept", "*/*")]))
    var responseHead = HTTPResponseHead(version: .http1_1, status: .ok,
                                        headers: HTTPHeaders([("server", "nginx"), ("content-type", "text/plain"),
                                                              ("content-length", "13"), ("connection", "keep-alive")]))
    let body = ByteBuffer(string: "Hello, World!")

    Benchmark("RouteTable.match") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(table.match(authority: "example.org", head: head))
        }
    }

    Benchmark("ProxyHeaderPolicy request+response") { benchmark in
        var random = SplitMix64(seed: 1)
        for _ in benchmark.scaledIterations {
            var request = head.headers
            ProxyHeaderPolicy.prepareUpstreamRequest(&request, clientAddress: "127.0.0.1", scheme: "http",
                                                     requestID: RequestID.make(using: &random))
            var response = responseHead.headers
            ProxyHeaderPolicy.prepareDownstreamResponse(&response)
            blackHole((request, response))
        }
    }

    Benchmark("FilterManager zero filters, one exchange") { benchmark in
        let sink = CountingSink()
        for _ in benchmark.scaledIterations {
            let info = StreamInfo(listenerName: "main", clientAddress: "127.0.0.1", scheme: "http", requestID: "id")
            let manager = FilterManager(filters: [], streamInfo: info, bufferLimit: 1 << 20, sink: sink)
            manager.decodeHeaders(head, endStream: true)
            manager.encodeHeaders(responseHead, endStream: false)
            manager.encodeData(body, endStream: true)
        }
        blackHole(sink.count)
    }
    _ = responseHead
    responseHead.status = .ok
}

final class CountingSink: FilterManagerSink {
    var count = 0
    func filterManager(_ manager: FilterManager, perform action: FilterManagerAction) { count += 1 }
}
