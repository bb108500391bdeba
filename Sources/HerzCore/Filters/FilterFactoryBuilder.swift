/// Maps each configured filter to its factory, in order. Call once per config generation and
/// listener; the factories (and any state they hold, such as rate-limit buckets) are shared by every
/// worker.
///
/// - Parameters:
///   - registry: factory makers for filter types implemented outside HerzCore (the kernel
///     registers `coproc` through `HerzCoprocFilter`); a maker registered for a type wins over the
///     built-in handling of that type.
///   - clock: monotonic nanoseconds for time-based filters; injectable for tests.
public func makeFilterFactories(_ configs: [FilterConfig], registry: FilterFactoryRegistry = FilterFactoryRegistry(),
                                clock: @escaping @Sendable () -> UInt64 = MonotonicClock.now) -> [HTTPFilterFactory] {
    configs.map { config -> HTTPFilterFactory in
        if let factory = registry.makeFactory(for: config) { return factory }
        switch config {
        case .headerMutation(let mutation):
            return HeaderMutationFilterFactory(config: mutation)
        case .buffer(let buffer):
            return BufferFilterFactory(config: buffer)
        case .localRateLimit(let rateLimit):
            return LocalRateLimitFilterFactory(config: rateLimit, clock: clock)
        case .coproc(let coproc):
            return CoprocUnavailableFilterFactory(config: coproc)
        case .jwtAuthn(let jwt):
            return JWTAuthnFilterFactory(config: jwt) { call, _ in CoprocUnavailableFilter(coprocessor: call.coprocessor) }
        case .aesGCM(let aes):
            return AESGCMFilterFactory(config: aes) { call, _ in CoprocUnavailableFilter(coprocessor: call.coprocessor) }
        case .jwtAuthnPerRoute, .aesGCMPerRoute, .flowControl, .fault:
            // flow_control needs the kernel's rule engine, which the kernel registers; without it
            // (tools, tests) the filter passes everything. `fault` needs the kernel's timers and
            // metrics (registered by HerzHTTP), likewise.
            return PassThroughFilterFactory(filterType: config.typeName)
        }
    }
}

/// Factory makers for filter types whose implementation lives outside HerzCore, keyed by the type
/// name written in the config (`FilterConfig.typeName`). Built once by the kernel at start-up and
/// passed to ``makeFilterFactories(_:registry:clock:)`` for every config generation. Immutable once
/// built and `Sendable`: makers run on whatever thread builds a config snapshot.
public struct FilterFactoryRegistry: Sendable {
    /// Returns the factory for `config`, or nil to fall back to HerzCore's built-in handling.
    public typealias Maker = @Sendable (FilterConfig) -> HTTPFilterFactory?

    private var makers: [String: Maker] = [:]

    public init() {}

    /// Registers (or replaces) the maker for filters of `type`.
    public mutating func register(type: String, _ maker: @escaping Maker) {
        self.makers[type] = maker
    }

    public func makeFactory(for config: FilterConfig) -> HTTPFilterFactory? {
        self.makers[config.typeName]?(config)
    }
}
