import NIOCore
import NIOHTTP1

/// HTTP/1.1 requests a client pipelined behind the one in flight, held in order until it finishes.
///
/// Herz serves one request per connection at a time (responses must go out in request order), and
/// queues what arrives meanwhile instead of stopping the socket after every request — stopping and
/// restarting reads costs two `epoll_ctl` calls per request even for clients that never pipeline.
/// The queue is bounded: past ``pauseThresholdBytes`` (or ``pauseThresholdParts``) the handler stops
/// reading until it drains. Pure value type; owned by one connection handler.
struct PipelinedRequestQueue {
    static let pauseThresholdBytes = 256 * 1024
    static let pauseThresholdParts = 64

    private var parts = CircularBuffer<HTTPServerRequestPart>()
    private(set) var bytes = 0

    var isEmpty: Bool { parts.isEmpty }
    var count: Int { parts.count }

    /// True when reading from the client should pause until the queue drains.
    var isOverLimit: Bool { bytes > Self.pauseThresholdBytes || parts.count > Self.pauseThresholdParts }

    mutating func append(_ part: HTTPServerRequestPart) {
        bytes += Self.size(of: part)
        parts.append(part)
    }

    mutating func popFirst() -> HTTPServerRequestPart? {
        guard let part = parts.popFirst() else { return nil }
        bytes -= Self.size(of: part)
        return part
    }

    private static func size(of part: HTTPServerRequestPart) -> Int {
        switch part {
        case .head(let head): return head.uri.utf8.count + head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        case .body(let buffer): return buffer.readableBytes
        case .end(let trailers): return trailers?.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 } ?? 0
        }
    }
}
