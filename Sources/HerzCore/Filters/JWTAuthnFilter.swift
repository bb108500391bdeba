import NIOCore
import NIOHTTP1

/// The kernel's `jwt_authn` filter for one stream: a thin front for a coprocessor call.
///
/// On the request head it removes every header the providers write (so an upstream only ever sees
/// claim and payload headers that herz-jwt set from a verified token), asks its
/// ``JWTAuthnRequirementTable`` whether the request needs a token, and if so creates the call
/// filter (the generic `coproc` filter with phase `request_headers` and the rule's settings) and
/// hands it this and every later callback; otherwise it passes everything on. The call filter
/// carries the coprocessor's answer (header edits, 401/403 local reply) and its `on_failure`
/// policy. It declares each `claim_to_headers` claim as metadata `jwt.CLAIM` read from that header
/// (``StreamInfo/headerMetadata``): the header was removed above, so only a verified value is there.
/// Owned by the stream's event loop.
public final class JWTAuthnFilter: HTTPFilter {
    private let table: JWTAuthnRequirementTable
    private let streamInfo: StreamInfo
    private let makeCallFilter: JWTAuthnFilterFactory.CallFilterMaker
    private var callFilter: HTTPFilter?

    public init(table: JWTAuthnRequirementTable, streamInfo: StreamInfo, makeCallFilter: @escaping JWTAuthnFilterFactory.CallFilterMaker) {
        self.table = table
        self.streamInfo = streamInfo
        self.makeCallFilter = makeCallFilter
    }

    public func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        for name in table.outputHeaders { head.headers.remove(name: name) }
        if !table.claimMetadata.isEmpty {
            streamInfo.headerMetadata.merge(table.claimMetadata) { current, _ in current }
        }
        guard let call = table.call(for: head, route: streamInfo.route) else { return .continue }
        let filter = makeCallFilter(call, streamInfo)
        callFilter = filter
        return filter.decodeHeaders(&head, endStream: endStream, callbacks: callbacks)
    }

    public func decodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus {
        callFilter?.decodeData(&data, endStream: endStream, callbacks: callbacks) ?? .continue
    }

    public func decodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus {
        callFilter?.decodeTrailers(&trailers, callbacks: callbacks) ?? .continue
    }

    public func encodeHeaders(_ head: inout HTTPResponseHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        callFilter?.encodeHeaders(&head, endStream: endStream, callbacks: callbacks) ?? .continue
    }

    public func encodeData(_ data: inout ByteBuffer, endStream: Bool, callbacks: FilterCallbacks) -> FilterDataStatus {
        callFilter?.encodeData(&data, endStream: endStream, callbacks: callbacks) ?? .continue
    }

    public func encodeTrailers(_ trailers: inout HTTPHeaders, callbacks: FilterCallbacks) -> FilterTrailersStatus {
        callFilter?.encodeTrailers(&trailers, callbacks: callbacks) ?? .continue
    }

    public func onStreamComplete() {
        callFilter?.onStreamComplete()
        callFilter = nil
    }
}

/// Builds a ``JWTAuthnFilter`` per stream for one configured `jwt_authn` filter. Created once per
/// config generation and listener (the requirement table is compiled here) and shared by every
/// worker.
public struct JWTAuthnFilterFactory: HTTPFilterFactory {
    public typealias CallFilterMaker = CoprocCallFilterMaker

    public let table: JWTAuthnRequirementTable
    private let makeCallFilter: CallFilterMaker
    public var filterType: String { "jwt_authn" }

    public init(config: JWTAuthnConfig, makeCallFilter: @escaping CallFilterMaker) {
        self.table = JWTAuthnRequirementTable(config: config)
        self.makeCallFilter = makeCallFilter
    }

    public func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        JWTAuthnFilter(table: table, streamInfo: streamInfo, makeCallFilter: makeCallFilter)
    }
}
