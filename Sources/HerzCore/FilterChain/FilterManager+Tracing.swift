/// Spans for filters that stop the chain: opened when a filter returns a stop status on a sampled
/// request, closed when it continues (or when the request ends). A request that is not sampled pays
/// one nil check per stop.
extension FilterManager {
    func traceFilterStopped<D: FilterDirection>(at position: Int, filterIndex: Int, in it: FilterIteration<D>) {
        guard let trace = streamInfo.trace, it.slots[position].traceSpan == nil else { return }
        let filter = filters[filterIndex]
        let name = "filter " + filter.traceName + (D.isDecode ? " (request)" : " (response)")
        it.slots[position].traceSpan = trace.start(name, kind: .internal, attributes: [SpanAttribute("herz.filter.index", filterIndex)])
    }

    func traceFilterResumed<D: FilterDirection>(at position: Int, in it: FilterIteration<D>) {
        guard let span = it.slots[position].traceSpan else { return }
        it.slots[position].traceSpan = nil
        streamInfo.trace?.end(span)
    }
}

extension HTTPFilter {
    /// Default span name: the filter's type name.
    public var traceName: String { String(describing: type(of: self)) }
}
