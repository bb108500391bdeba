import NIOCore
import NIOHTTP1
import Synchronization
import XCTest
@testable import HerzCore

final class LocalRateLimitFilterTests: XCTestCase {
    final class TestClock: Sendable {
        let nanos = Mutex<UInt64>(0)
        func advance(seconds: UInt64) { self.nanos.withLock { $0 += seconds * 1_000_000_000 } }
        var read: @Sendable () -> UInt64 { { self.nanos.withLock { $0 } } }
    }

    func route(_ name: String, override: LocalRateLimitConfig? = nil) -> RouteEntry {
        RouteEntry(name: name, match: RouteMatch(path: .prefix("/")), action: .cluster("c"),
                   perFilterConfig: override.map { ["local_ratelimit": .localRateLimit($0)] } ?? [:])
    }

    /// Runs one request through a fresh stream built from `factory`; returns the sink's actions.
    func send(_ factory: HTTPFilterFactory, route: RouteEntry?) -> [FilterManagerAction] {
        let info = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "1", route: route)
        let sink = RecordingSink(log: EventLog())
        let manager = FilterManager(filters: [factory.makeFilter(streamInfo: info)], streamInfo: info, bufferLimit: 1024, sink: sink)
        manager.decodeHeaders(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"), endStream: true)
        return sink.actions
    }

    func isAllowed(_ actions: [FilterManagerAction]) -> Bool {
        if case .forwardRequestHead? = actions.first { return true }
        return false
    }

    func testEmptyBucketRepliesWithStatusAndRetryAfter() {
        let clock = TestClock()
        let config = LocalRateLimitConfig(maxTokens: 2, tokensPerFill: 1, fillInterval: .seconds(5))
        let factory = makeFilterFactories([.localRateLimit(config)], clock: clock.read)[0]
        XCTAssertEqual(factory.filterType, "local_ratelimit")
        let r = route("api")
        XCTAssertTrue(isAllowed(send(factory, route: r)))
        XCTAssertTrue(isAllowed(send(factory, route: r)))
        clock.advance(seconds: 2)
        let limited = send(factory, route: r)
        guard case .sendResponseHead(let head, false)? = limited.first else { return XCTFail("\(limited.map(describe))") }
        XCTAssertEqual(head.status.code, 429)
        XCTAssertEqual(head.headers["retry-after"], ["3"])
        XCTAssertEqual(head.headers["x-herz-ratelimited"], ["true"])
        clock.advance(seconds: 3)
        XCTAssertTrue(isAllowed(send(factory, route: r)))
    }

    func testOneBucketPerRouteAndPerRouteOverride() {
        let clock = TestClock()
        let factory = LocalRateLimitFilterFactory(
            config: LocalRateLimitConfig(maxTokens: 1, tokensPerFill: 1, fillInterval: .seconds(60), statusCode: 503),
            clock: clock.read)
        let a = route("a"), b = route("b")
        let vip = route("vip", override: LocalRateLimitConfig(maxTokens: 3, tokensPerFill: 1, fillInterval: .seconds(60)))
        XCTAssertTrue(isAllowed(send(factory, route: a)))
        XCTAssertTrue(isAllowed(send(factory, route: b)))  // its own bucket
        guard case .sendResponseHead(let head, _)? = send(factory, route: a).first else { return XCTFail() }
        XCTAssertEqual(head.status.code, 503)  // the listener config's status
        XCTAssertEqual((0..<4).map { _ in isAllowed(send(factory, route: vip)) }, [true, true, true, false])
        XCTAssertTrue(isAllowed(send(factory, route: nil)))  // no route: the shared "" bucket
        XCTAssertFalse(isAllowed(send(factory, route: nil)))
    }

    func testBucketsAreSharedAcrossThreads() {
        let factory = LocalRateLimitFilterFactory(
            config: LocalRateLimitConfig(maxTokens: 100, tokensPerFill: 1, fillInterval: .seconds(3600)), clock: { 0 })
        let allowed = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            var mine = 0
            for _ in 0..<50 where factory.buckets.take(route: "r", config: factory.config, now: 0) == nil { mine += 1 }
            allowed.withLock { $0 += mine }
        }
        XCTAssertEqual(allowed.withLock { $0 }, 100)
    }

    func testFactoryBuilderMapsEveryConfig() {
        let factories = makeFilterFactories([
            .headerMutation(HeaderMutationConfig()),
            .buffer(BufferFilterConfig(maxRequestBytes: 1)),
            .localRateLimit(LocalRateLimitConfig(maxTokens: 1, tokensPerFill: 1, fillInterval: .seconds(1))),
        ])
        XCTAssertEqual(factories.map(\.filterType), ["header_mutation", "buffer", "local_ratelimit"])
        let info = StreamInfo(listenerName: "l", clientAddress: nil, scheme: "http", requestID: "1")
        XCTAssertTrue(factories[0].makeFilter(streamInfo: info) is HeaderMutationFilter)
        XCTAssertTrue(factories[1].makeFilter(streamInfo: info) is BufferFilter)
        XCTAssertTrue(factories[2].makeFilter(streamInfo: info) is LocalRateLimitFilter)
    }
}
