import NIOHTTP1

/// Stands in for a `coproc` filter when no coprocessor runtime was registered with
/// ``FilterFactoryRegistry`` (e.g. a build or test without `HerzCoprocFilter`): every request on a
/// route where the filter is enabled gets the fail-closed reply (``CoprocFailureReply``, reason
/// `down`). Failing closed is the only safe default: the coprocessor may be an authorisation check.
/// Stateless; one instance per stream.
public final class CoprocUnavailableFilter: HTTPFilter {
    public let coprocessor: String

    public init(coprocessor: String) {
        self.coprocessor = coprocessor
    }

    public func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        let reason = "down"
        callbacks.sendLocalReply(status: CoprocFailureReply.status,
                                 body: CoprocFailureReply.body(coprocessor: self.coprocessor, reason: reason),
                                 headers: CoprocFailureReply.headers(reason: reason))
        return .stopIteration
    }
}

/// Makes the filter that performs a stream's coprocessor calls under a call config, for the typed
/// filters built on the `coproc` machinery (`jwt_authn`, `aes_gcm`): the kernel passes the `coproc`
/// filter; without a coprocessor runtime it is the fail-closed ``CoprocUnavailableFilter``. Runs on
/// the stream's event loop.
public typealias CoprocCallFilterMaker = @Sendable (CoprocFilterConfig, StreamInfo) -> HTTPFilter

/// Builds ``CoprocUnavailableFilter``s (or pass-through filters on routes that disable the filter).
public struct CoprocUnavailableFilterFactory: HTTPFilterFactory {
    public let config: CoprocFilterConfig
    public var filterType: String { "coproc" }

    public init(config: CoprocFilterConfig) {
        self.config = config
    }

    public func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        let effective = self.config.effective(on: streamInfo.route)
        return effective.disabled ? PassThroughFilter() : CoprocUnavailableFilter(coprocessor: effective.coprocessor)
    }
}

/// A filter that passes everything on unchanged (every ``HTTPFilter`` default). Used where a
/// configured filter is switched off for a route.
public final class PassThroughFilter: HTTPFilter {
    public init() {}
}

/// Builds ``PassThroughFilter``s: the factory of a filter config that does nothing in a listener's
/// chain (a route-only override such as `jwt_authn`'s per-route form).
public struct PassThroughFilterFactory: HTTPFilterFactory {
    public let filterType: String
    public init(filterType: String) { self.filterType = filterType }
    public func makeFilter(streamInfo: StreamInfo) -> HTTPFilter { PassThroughFilter() }
}
