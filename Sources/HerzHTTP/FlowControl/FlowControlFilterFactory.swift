import HerzCore
import NIOHTTP1

/// Builds a ``FlowControlFilter`` per stream for one configured `flow_control` filter; every
/// instance uses the kernel's one ``FlowControlEngine`` (the rules of the top-level
/// `flow_control:` section). On a route with `per_filter_config: { flow_control: { disabled: true } }`
/// (or a filter configured `disabled: true`) the stream gets a ``PassThroughFilter``.
struct FlowControlFilterFactory: HTTPFilterFactory {
    let config: FlowControlFilterConfig
    let engine: FlowControlEngine
    var filterType: String { "flow_control" }

    func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        isDisabled(for: streamInfo) ? PassThroughFilter() : FlowControlFilter(engine: engine, streamInfo: streamInfo)
    }

    /// Passes a request no rule matches, and one whose matching rules are all decidable at once
    /// (local rate limits) and admit it; anything else (a refusal, a delay, a concurrency or
    /// global limit) is left to the filter, with nothing taken.
    func decideOnHead(_ head: HTTPRequestHead, streamInfo: StreamInfo) -> HeadDecision {
        if isDisabled(for: streamInfo) { return .pass }
        let program = engine.program
        guard !program.isEmpty else { return .pass }
        var match = FlowMatch()
        program.match(FlowHTTPRequest(head: head, info: streamInfo), into: &match)
        guard !match.rules.isEmpty else { return .pass }
        guard match.rules.allSatisfy({ program.decidableOnHead[$0] }) else { return .runFilter }
        return engine.admitAtOnce(match, program: program) ? .pass : .runFilter
    }

    private func isDisabled(for streamInfo: StreamInfo) -> Bool {
        if case .flowControl(let override)? = streamInfo.route?.perFilterConfig["flow_control"] { return override.disabled }
        return config.disabled
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
