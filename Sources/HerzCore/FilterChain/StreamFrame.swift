import NIOCore
import NIOHTTP1

/// One message element travelling through the chain in one direction: the head, a body chunk, or
/// the trailers. `Head` is `HTTPRequestHead` (decode) or `HTTPResponseHead` (encode).
enum StreamFrame<Head> {
    case headers(Head, endStream: Bool)
    case data(ByteBuffer, endStream: Bool)
    /// Trailers always end the message.
    case trailers(HTTPHeaders)
}

/// The frames waiting to enter one position of the chain, in stream order.
///
/// A message is headers, then body, then trailers, so a queue never needs more than one slot of each
/// kind: body bytes waiting at the same position are coalesced into one buffer. The end-of-stream
/// marker always sits on the last frame present; appending body after headers that carried it moves
/// it onto the body. This is where the manager keeps buffered data, one queue per position, so every
/// byte enters every filter at most once and in order.
struct PendingFrames<Head> {
    private(set) var head: Head?
    private var headEndsStream = false
    private(set) var data: ByteBuffer?
    private var dataEndsStream = false
    private(set) var trailers: HTTPHeaders?

    var isEmpty: Bool { self.head == nil && self.data == nil && self.trailers == nil }
    /// Whether the end of the message is among the queued frames.
    var containsEnd: Bool { self.headEndsStream || self.dataEndsStream || self.trailers != nil }
    var dataBytes: Int { self.data?.readableBytes ?? 0 }

    mutating func pushHead(_ head: Head, endStream: Bool) {
        self.head = head
        self.headEndsStream = endStream && self.data == nil && self.trailers == nil
    }

    /// Appends body bytes after any queued body (and before any queued trailers).
    mutating func pushData(_ chunk: ByteBuffer, endStream: Bool) {
        if var existing = self.data {
            self.data = nil  // keep `existing` uniquely referenced so the append does not copy
            existing.writeImmutableBuffer(chunk)
            self.data = existing
        } else {
            self.data = chunk
        }
        if self.trailers == nil {
            self.dataEndsStream = self.dataEndsStream || endStream || self.headEndsStream
        }
        self.headEndsStream = false
    }

    mutating func pushTrailers(_ trailers: HTTPHeaders) {
        self.trailers = trailers
        self.headEndsStream = false
        self.dataEndsStream = false
    }

    mutating func popFirst() -> StreamFrame<Head>? {
        if let head = self.head {
            self.head = nil
            defer { self.headEndsStream = false }
            return .headers(head, endStream: self.headEndsStream)
        }
        if let data = self.data {
            self.data = nil
            defer { self.dataEndsStream = false }
            return .data(data, endStream: self.dataEndsStream)
        }
        if let trailers = self.trailers {
            self.trailers = nil
            return .trailers(trailers)
        }
        return nil
    }

    /// Takes the queued head out for editing; put it back with ``restoreHead(_:)``.
    mutating func takeHead() -> Head? {
        defer { self.head = nil }
        return self.head
    }

    mutating func restoreHead(_ head: Head) {
        self.head = head
    }

    /// Takes the queued trailers out for editing; put them back with ``restoreTrailers(_:)``.
    mutating func takeTrailers() -> HTTPHeaders? {
        defer { self.trailers = nil }
        return self.trailers
    }

    mutating func restoreTrailers(_ trailers: HTTPHeaders) {
        self.trailers = trailers
    }
}
