import NIOCore
import NIOHTTP1

/// The filter chain of a stream whose listener has no filters (only the router): what
/// ``FilterManager`` does with an empty filter list, as a value type that allocates nothing.
///
/// Events in, actions out: each method returns the ``FilterManagerAction``s to perform, in order,
/// exactly as a `FilterManager(filters: [])` would emit them to its sink — the request passes
/// straight to the terminal, the response straight downstream, a local reply replaces a response
/// that has not started (and resets one that has), and `.streamComplete` comes exactly once, after
/// which every event is ignored. `FilterManagerTests` checks both against the same event sequences.
/// (A filter manager per stream costs four allocations and its iteration machinery; most listeners
/// have no filters.)
///
/// Owned by one stream on its event loop. Callers must finish reading a returned value before
/// feeding the next event (the actions may lead to further events).
public struct PassThroughFilterChain {
    private var requestStarted = false
    private var requestEnded = false
    private var requestVersion: HTTPVersion = .http1_1
    private var requestIsHEAD = false
    private var responseStarted = false
    /// A local reply replaced the terminal's response: its response events are ignored.
    private var superseded = false
    /// `.streamComplete` was returned.
    public private(set) var isComplete = false

    public init() {}

    // MARK: request (downstream) events

    public mutating func decodeHeaders(_ head: HTTPRequestHead, endStream: Bool) -> FilterChainActions {
        guard !isComplete, !requestStarted else { return FilterChainActions() }
        requestStarted = true
        requestEnded = endStream
        requestVersion = head.version
        requestIsHEAD = head.method == .HEAD
        return FilterChainActions(.forwardRequestHead(head, endStream: endStream))
    }

    public mutating func decodeData(_ data: ByteBuffer, endStream: Bool) -> FilterChainActions {
        guard !isComplete, requestStarted, !requestEnded else { return FilterChainActions() }
        requestEnded = endStream
        return FilterChainActions(.forwardRequestData(data, endStream: endStream))
    }

    public mutating func decodeTrailers(_ trailers: HTTPHeaders) -> FilterChainActions {
        guard !isComplete, requestStarted, !requestEnded else { return FilterChainActions() }
        requestEnded = true
        return FilterChainActions(.forwardRequestTrailers(trailers))
    }

    // MARK: response (terminal) events

    public mutating func encodeHeaders(_ head: HTTPResponseHead, endStream: Bool) -> FilterChainActions {
        guard !isComplete, !superseded, !responseStarted else { return FilterChainActions() }
        responseStarted = true
        return respond(.sendResponseHead(head, endStream: endStream), ends: endStream)
    }

    public mutating func encodeData(_ data: ByteBuffer, endStream: Bool) -> FilterChainActions {
        guard !isComplete, !superseded, responseStarted else { return FilterChainActions() }
        return respond(.sendResponseData(data, endStream: endStream), ends: endStream)
    }

    public mutating func encodeTrailers(_ trailers: HTTPHeaders) -> FilterChainActions {
        guard !isComplete, !superseded, responseStarted else { return FilterChainActions() }
        return respond(.sendResponseTrailers(trailers), ends: true)
    }

    private mutating func respond(_ action: FilterManagerAction, ends: Bool) -> FilterChainActions {
        guard ends else { return FilterChainActions(action) }
        isComplete = true
        return FilterChainActions(action, .streamComplete)
    }

    /// A local reply from the terminal (router: 404/502/503/504…).
    public mutating func sendLocalReply(status: HTTPResponseStatus, body: String, headers: HTTPHeaders) -> FilterChainActions {
        guard !isComplete else { return FilterChainActions() }
        requestEnded = true  // the request stops here (FilterManager aborts its decode direction)
        isComplete = true
        if responseStarted {
            return FilterChainActions(.resetStream(.localReplyAfterResponseStarted), .streamComplete)
        }
        superseded = true
        let (head, bodyBuffer) = FilterManager.makeLocalReply(status: status, body: body, headers: headers,
                                                              version: requestVersion, isHEAD: requestIsHEAD)
        guard let bodyBuffer else {
            return FilterChainActions(.sendResponseHead(head, endStream: true), .streamComplete)
        }
        return FilterChainActions(.sendResponseHead(head, endStream: false), .sendResponseData(bodyBuffer, endStream: true),
                                  .streamComplete)
    }

    /// The I/O layer saw a reset: `.streamComplete` (once), nothing else.
    public mutating func resetStream(_ reason: StreamResetReason) -> FilterChainActions {
        guard !isComplete else { return FilterChainActions() }
        isComplete = true
        return FilterChainActions(.streamComplete)
    }
}

/// Up to three actions from one ``PassThroughFilterChain`` event, in order, without an array.
public struct FilterChainActions: Sequence, IteratorProtocol {
    private var first: FilterManagerAction?
    private var second: FilterManagerAction?
    private var third: FilterManagerAction?

    init(_ first: FilterManagerAction? = nil, _ second: FilterManagerAction? = nil, _ third: FilterManagerAction? = nil) {
        self.first = first
        self.second = second
        self.third = third
    }

    public mutating func next() -> FilterManagerAction? {
        let next = first
        first = second
        second = third
        third = nil
        return next
    }
}
