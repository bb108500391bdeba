import Dispatch
import NIOCore
import NIOHTTP1
import Synchronization

/// Monotonic clock used by rate limiting: nanoseconds since boot.
public enum MonotonicClock {
    @Sendable public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// The token buckets of one `local_ratelimit` filter config, shared by every worker thread: one
/// bucket per route name, created on first use. The lock guards one dictionary lookup and one
/// bucket update, nothing more.
public final class LocalRateLimitBuckets: Sendable {
    private let buckets = Mutex<[String: TokenBucket]>([:])

    public init() {}

    /// Takes a token from `route`'s bucket (created from `config` if new). Returns nil when a token
    /// was taken, else the `retry-after` seconds.
    public func take(route: String, config: LocalRateLimitConfig, now: UInt64) -> Int? {
        self.buckets.withLock { buckets -> Int? in
            if buckets[route] == nil { buckets[route] = TokenBucket(config: config, now: now) }
            if buckets[route]!.tryTake(now: now) { return nil }
            return buckets[route]!.retryAfter(now: now)
        }
    }
}

/// `local_ratelimit`: one token per request from the bucket of the request's route; an empty bucket
/// ends the request with a local reply (the configured status, 429 by default) carrying
/// `retry-after` (whole seconds, ≥ 1) and `x-herz-ratelimited: true`. A route's
/// `per_filter_config["local_ratelimit"]` replaces the listener's config (and so the bucket shape)
/// for that route. Requests without a route share the bucket named "".
public final class LocalRateLimitFilter: HTTPFilter {
    private let config: LocalRateLimitConfig
    private let buckets: LocalRateLimitBuckets
    private let clock: @Sendable () -> UInt64

    public init(config: LocalRateLimitConfig, buckets: LocalRateLimitBuckets, clock: @escaping @Sendable () -> UInt64) {
        self.config = config
        self.buckets = buckets
        self.clock = clock
    }

    public func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        let route = callbacks.streamInfo.route
        var config = self.config
        if case .localRateLimit(let override)? = route?.perFilterConfig["local_ratelimit"] { config = override }
        guard let retryAfter = self.buckets.take(route: route?.name ?? "", config: config, now: self.clock()) else {
            return .continue
        }
        var headers = HTTPHeaders()
        headers.add(name: "retry-after", value: String(retryAfter))
        headers.add(name: "x-herz-ratelimited", value: "true")
        callbacks.sendLocalReply(status: HTTPResponseStatus(statusCode: config.statusCode), body: "local rate limited", headers: headers)
        return .stopIteration
    }
}

/// Builds ``LocalRateLimitFilter``s that share this factory's buckets across streams and workers.
public struct LocalRateLimitFilterFactory: HTTPFilterFactory {
    public let config: LocalRateLimitConfig
    public let buckets: LocalRateLimitBuckets
    private let clock: @Sendable () -> UInt64
    public var filterType: String { "local_ratelimit" }

    /// - Parameter clock: monotonic nanoseconds; injectable for tests.
    public init(config: LocalRateLimitConfig, clock: @escaping @Sendable () -> UInt64 = MonotonicClock.now) {
        self.config = config
        self.buckets = LocalRateLimitBuckets()
        self.clock = clock
    }

    public func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        LocalRateLimitFilter(config: self.config, buckets: self.buckets, clock: self.clock)
    }
}
