/// Builds the per-stream filter of one configured `aes_gcm` filter. Created once per config
/// generation and listener and shared by every worker; the call configs (phases and settings JSON)
/// were rendered when the config loaded, so choosing a stream's filter allocates nothing beyond it.
///
/// A stream on a route that disables the filter, or whose operations do nothing, gets a
/// ``PassThroughFilter`` and never calls the coprocessor; every other stream gets the filter the
/// kernel makes for one coprocessor conversation (the `coproc` filter with the operations' phases
/// and settings; without a coprocessor runtime, the fail-closed stand-in). The `coproc` machinery
/// carries the body streaming, the answers, local replies and the `on_failure` policy (never
/// `fail_open` for this filter: the loader refuses it).
public struct AESGCMFilterFactory: HTTPFilterFactory {
    public let config: AESGCMConfig
    /// The listener's call config, nil when its operations do nothing.
    let listenerCall: CoprocFilterConfig?
    private let makeCallFilter: CoprocCallFilterMaker
    public var filterType: String { "aes_gcm" }

    public init(config: AESGCMConfig, makeCallFilter: @escaping CoprocCallFilterMaker) {
        self.config = config
        self.listenerCall = config.call(config.operations)
        self.makeCallFilter = makeCallFilter
    }

    /// The call config that applies on `route`: the route's override, else the listener's.
    public func call(on route: RouteEntry?) -> CoprocFilterConfig? {
        switch route?.perFilterConfig["aes_gcm"] {
        case .aesGCMPerRoute(.disabled)?: return nil
        case .aesGCMPerRoute(.operations(let operations))?: return config.call(operations)
        default: return listenerCall
        }
    }

    public func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        guard let call = call(on: streamInfo.route) else { return PassThroughFilter() }
        return makeCallFilter(call, streamInfo)
    }
}
