import NIOCore
import NIOHTTP1

/// Decides, for the first request of a cleartext HTTP/1.1 connection, whether the connection
/// switches to HTTP/2 (`Upgrade: h2c`), and holds the upgrade request back until it is complete.
///
/// Events in (the request's parts), actions out; no channel inside. ``H2CUpgradeHandler`` runs
/// the actions on the connection's event loop.
///
/// - A first request without `Upgrade: h2c` passes at once and the handler leaves the pipeline.
/// - A valid upgrade request is held (head and body, up to
///   ``H2CUpgradeRequest/maxBufferedBodyBytes``) until its end, then switches.
/// - A declined attempt (see ``H2CUpgradeRequest/DeclineReason``), a body over the limit, or
///   trailers pass on as HTTP/1.1; at the end of that request the handler leaves, restarting
///   the HTTP/1.1 decoder if the `Upgrade` stopped it.
struct H2CUpgradeStateMachine {
    /// What to do once the parts are passed on.
    enum Then: Equatable {
        /// Stay and see the rest of this request.
        case keepWatching
        /// Leave the pipeline; first replace the HTTP/1.1 decoder if it stopped parsing.
        case leave(restartDecoder: Bool)
    }

    enum Action: Equatable {
        /// Hold the part: an upgrade request is still arriving.
        case hold
        /// Pass these parts to the HTTP/1.1 handlers, in order.
        case pass([HTTPServerRequestPart], then: Then)
        /// Write `101 Switching Protocols` and serve the request (and its body) on stream 1.
        case upgrade(H2CUpgradeRequest, body: ByteBuffer)
        /// Answer 400 with this reason and close.
        case reject(String)
        /// The decision was made: ignore the part (the connection is switching or closing).
        case ignore
    }

    private enum State {
        /// No request seen yet.
        case awaitingHead
        /// A valid upgrade request whose body is arriving.
        case holding(H2CUpgradeRequest, body: ByteBuffer)
        /// Declined: the request's parts pass on until its end.
        case passing(restartDecoder: Bool)
        /// Switched, rejected or left: nothing more to decide.
        case done
    }

    private var state = State.awaitingHead
    private let isSecure: Bool

    init(isSecure: Bool = false) { self.isSecure = isSecure }

    mutating func receiveHead(_ head: HTTPRequestHead) -> Action {
        guard case .awaitingHead = state else { return .ignore }
        switch H2CUpgradeRequest.evaluate(head, isSecure: isSecure) {
        case .serveAsHTTP1(.notRequested):
            state = .done
            return .pass([.head(head)], then: .leave(restartDecoder: false))
        case .serveAsHTTP1:
            state = .passing(restartDecoder: H2CUpgradeRequest.stopsHTTP1Decoder(head))
            return .pass([.head(head)], then: .keepWatching)
        case .reject(let reason):
            state = .done
            return .reject(reason)
        case .upgrade(let request):
            state = .holding(request, body: ByteBuffer())
            return .hold
        }
    }

    mutating func receiveBody(_ part: ByteBuffer) -> Action {
        switch state {
        case .awaitingHead, .done:
            return .ignore
        case .passing:
            return .pass([.body(part)], then: .keepWatching)
        case .holding(let request, var body):
            if body.readableBytes + part.readableBytes > H2CUpgradeRequest.maxBufferedBodyBytes {
                return decline(request, body: body, then: [.body(part)], endOfRequest: false)
            }
            state = .done  // drop the reference while appending, so the buffer is not copied
            var part = part
            body.writeBuffer(&part)
            state = .holding(request, body: body)
            return .hold
        }
    }

    mutating func receiveEnd(_ trailers: HTTPHeaders?) -> Action {
        switch state {
        case .awaitingHead, .done:
            return .ignore
        case .passing(let restart):
            state = .done
            return .pass([.end(trailers)], then: .leave(restartDecoder: restart))
        case .holding(let request, let body):
            if trailers != nil {
                // HTTP/1.1 trailers have no place in the replayed stream: serve as HTTP/1.1.
                return decline(request, body: body, then: [.end(trailers)], endOfRequest: true)
            }
            state = .done
            return .upgrade(request, body: body)
        }
    }

    /// Gives up on an upgrade request already held: everything held passes on as HTTP/1.1.
    private mutating func decline(_ request: H2CUpgradeRequest, body: ByteBuffer, then rest: [HTTPServerRequestPart],
                                  endOfRequest: Bool) -> Action {
        let restart = H2CUpgradeRequest.stopsHTTP1Decoder(request.head)
        var parts: [HTTPServerRequestPart] = [.head(request.head)]
        if body.readableBytes > 0 { parts.append(.body(body)) }
        parts += rest
        if endOfRequest {
            state = .done
            return .pass(parts, then: .leave(restartDecoder: restart))
        }
        state = .passing(restartDecoder: restart)
        return .pass(parts, then: .keepWatching)
    }
}
