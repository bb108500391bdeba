import NIOHTTP1

/// What a filter factory decided from a request head before making a filter (Herz's shortcut;
/// Envoy always builds the chain).
///
/// `.pass` promises that the filter, had it been made, would have continued every callback of the
/// stream unchanged and had nothing to release at its end: the decision is already taken and
/// accounted for (a flow rule's token drawn and counted). The stream then runs without that filter,
/// and with no filter at all (``PassThroughFilterChain``) when every factory passes. `.runFilter`
/// means the factory took nothing: its filter is made and decides as usual.
public enum HeadDecision: Sendable, Equatable {
    case pass
    case runFilter
}

/// Chooses the filters of one stream: the leading factories that decide `.pass` on the head are
/// left out; from the first one that does not (or any factory after a filter that runs, since
/// that filter may change the head) every factory makes its filter, in order. So a filter left out
/// saw exactly the head it would have seen in the chain.
public enum FilterChainPlan {
    public static func filters(for head: HTTPRequestHead, streamInfo: StreamInfo,
                               factories: [HTTPFilterFactory]) -> [HTTPFilter] {
        var first = 0
        while first < factories.count, factories[first].decideOnHead(head, streamInfo: streamInfo) == .pass {
            first += 1
        }
        guard first < factories.count else { return [] }
        return factories[first...].map { $0.makeFilter(streamInfo: streamInfo) }
    }
}
