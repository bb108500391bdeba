import HerzCore

/// Builds a ``FlowControlFilter`` per stream for one configured `flow_control` filter; every
/// instance uses the kernel's one ``FlowControlEngine`` (the rules of the top-level
/// `flow_control:` section). On a route with `per_filter_config: { flow_control: { disabled: true } }`
/// (or a filter configured `disabled: true`) the stream gets a ``PassThroughFilter``.
struct FlowControlFilterFactory: HTTPFilterFactory {
    let config: FlowControlFilterConfig
    let engine: FlowControlEngine
    var filterType: String { "flow_control" }

    func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        var disabled = config.disabled
        if case .flowControl(let override)? = streamInfo.route?.perFilterConfig["flow_control"] { disabled = override.disabled }
        return disabled ? PassThroughFilter() : FlowControlFilter(engine: engine, streamInfo: streamInfo)
    }
}

extension FilterFactoryRegistry {
    /// Registers `flow_control`: its filters enforce `engine`'s rules.
    public mutating func registerFlowControl(engine: FlowControlEngine) {
        register(type: "flow_control") { config in
            guard case .flowControl(let filter) = config else { return nil }
            return FlowControlFilterFactory(config: filter, engine: engine)
        }
    }
}
