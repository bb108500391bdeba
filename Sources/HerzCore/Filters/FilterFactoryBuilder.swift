/// Maps each configured filter to its factory, in order. Call once per config generation and
/// listener; the factories (and any state they hold, such as rate-limit buckets) are shared by every
/// worker.
///
/// - Parameter clock: monotonic nanoseconds for time-based filters; injectable for tests.
public func makeFilterFactories(_ configs: [FilterConfig],
                                clock: @escaping @Sendable () -> UInt64 = MonotonicClock.now) -> [HTTPFilterFactory] {
    configs.map { config -> HTTPFilterFactory in
        switch config {
        case .headerMutation(let mutation):
            return HeaderMutationFilterFactory(config: mutation)
        case .buffer(let buffer):
            return BufferFilterFactory(config: buffer)
        case .localRateLimit(let rateLimit):
            return LocalRateLimitFilterFactory(config: rateLimit, clock: clock)
        }
    }
}
