import HerzCore
import HerzCoproc

/// Builds a ``CoprocHTTPFilter`` per stream for one configured `coproc` filter. Created once per
/// config generation and listener and shared by every worker; the filter of a stream gets the
/// dispatcher of the worker the stream runs on from `dispatchers`. On a route that disables the
/// filter (or configures no phase) the stream gets a ``PassThroughFilter`` and never talks to the
/// coprocessor.
public struct CoprocHTTPFilterFactory: HTTPFilterFactory {
    public let config: CoprocFilterConfig
    public let dispatchers: CoprocDispatcherProvider
    public var filterType: String { "coproc" }

    public init(config: CoprocFilterConfig, dispatchers: CoprocDispatcherProvider) {
        self.config = config
        self.dispatchers = dispatchers
    }

    public func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        let effective = self.config.effective(on: streamInfo.route)
        if effective.disabled || effective.phases.isEmpty { return PassThroughFilter() }
        return CoprocHTTPFilter(config: effective, dispatcher: self.dispatchers.dispatcher(for: streamInfo), streamInfo: streamInfo)
    }
}

extension FilterFactoryRegistry {
    /// Registers the filter types that run on coprocessors: `coproc` (then
    /// `makeFilterFactories(configs, registry: registry)` builds ``CoprocHTTPFilterFactory``s whose
    /// filters reach coprocessors through `dispatchers`), `jwt_authn` and `aes_gcm` (whose calls
    /// are ``CoprocHTTPFilter``s on the same dispatchers).
    public mutating func registerCoproc(dispatchers: CoprocDispatcherProvider) {
        self.register(type: "coproc") { config in
            guard case .coproc(let coproc) = config else { return nil }
            return CoprocHTTPFilterFactory(config: coproc, dispatchers: dispatchers)
        }
        let makeCallFilter: CoprocCallFilterMaker = { call, streamInfo in
            CoprocHTTPFilter(config: call, dispatcher: dispatchers.dispatcher(for: streamInfo), streamInfo: streamInfo)
        }
        self.register(type: "jwt_authn") { config in
            guard case .jwtAuthn(let jwt) = config else { return nil }
            return JWTAuthnFilterFactory(config: jwt, makeCallFilter: makeCallFilter)
        }
        self.register(type: "aes_gcm") { config in
            guard case .aesGCM(let aes) = config else { return nil }
            return AESGCMFilterFactory(config: aes, makeCallFilter: makeCallFilter)
        }
    }
}
