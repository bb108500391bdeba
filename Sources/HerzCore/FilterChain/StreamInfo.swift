import NIOHTTP1
import Synchronization

/// Facts about one HTTP stream that every filter and the router may read and some may set.
///
/// Owned by the stream's event loop; never shared across threads.
public final class StreamInfo {
    /// The listener that accepted the stream (its configured name).
    public let listenerName: String
    /// The downstream peer's IP address, if known.
    public let clientAddress: String?
    /// `http` or `https`: what the client used to reach Herz.
    public let scheme: String
    /// The route selected for the request, if any (resolved before the filters are built).
    public var route: RouteEntry?
    /// Free-form per-stream metadata filters may set for later filters and the router
    /// (e.g. verified JWT claims). Keys are namespaced by filter type: `jwt_authn.sub`.
    public var metadata: [String: String] = [:]
    /// Metadata whose value travels in a request header that only the filter declaring it can
    /// set (it removes that header from every incoming request): metadata key → lower-case header
    /// name. `jwt_authn` declares `jwt.CLAIM` for its `claim_to_headers`, so later filters (flow
    /// rules' `metadata["jwt.sub"]`) read verified claims without a copy per request.
    public var headerMetadata: [String: String] = [:]
    /// The request id (`x-request-id`), generated if the client did not send one.
    public var requestID: String
    /// Unique among the streams of this process (never 0): names the stream to coprocessors
    /// (`CoprocCall.streamId`, `StreamEnd`).
    public let streamID: UInt64
    /// The request's spans when tracing sampled it (nil otherwise): filters add theirs here.
    public var trace: RequestTrace?

    public init(listenerName: String, clientAddress: String?, scheme: String, requestID: String, route: RouteEntry? = nil,
                streamID: UInt64 = StreamInfo.nextStreamID()) {
        self.streamID = streamID
        self.listenerName = listenerName
        self.clientAddress = clientAddress
        self.scheme = scheme
        self.requestID = requestID
        self.route = route
    }
}

extension StreamInfo {
    private static let streamIDCounter = Atomic<UInt64>(0)

    /// A fresh process-wide stream id (one relaxed atomic increment; callable from any thread).
    public static func nextStreamID() -> UInt64 {
        streamIDCounter.add(1, ordering: .relaxed).newValue
    }
}
