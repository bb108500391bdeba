import NIOHTTP1

/// `header_mutation`: edits request headers in `decodeHeaders` and response headers in
/// `encodeHeaders` — removals first, then additions (`append: false` replaces existing values).
/// Never stops iteration. One instance per stream; stateless.
public final class HeaderMutationFilter: HTTPFilter {
    public let config: HeaderMutationConfig

    public init(config: HeaderMutationConfig) {
        self.config = config
    }

    public func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        if !self.config.request.isEmpty { Self.apply(self.config.request, to: &head.headers) }
        return .continue
    }

    public func encodeHeaders(_ head: inout HTTPResponseHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        if !self.config.response.isEmpty { Self.apply(self.config.response, to: &head.headers) }
        return .continue
    }

    /// Applies `mutations` to `headers`: removals, then additions.
    public static func apply(_ mutations: HeaderMutations, to headers: inout HTTPHeaders) {
        for name in mutations.remove {
            headers.remove(name: name)
        }
        for option in mutations.add {
            if option.append {
                headers.add(name: option.name, value: option.value)
            } else {
                headers.replaceOrAdd(name: option.name, value: option.value)
            }
        }
    }
}

/// Builds a ``HeaderMutationFilter`` per stream.
public struct HeaderMutationFilterFactory: HTTPFilterFactory {
    public let config: HeaderMutationConfig
    public var filterType: String { "header_mutation" }

    public init(config: HeaderMutationConfig) {
        self.config = config
    }

    public func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        HeaderMutationFilter(config: self.config)
    }
}
