import NIOCore

/// The response body of one HTTP/3 stream between the proxy and the QUIC stack.
///
/// nghttp3 pulls body bytes by reference and needs them to stay valid until the peer acknowledges
/// them, so a chunk moves from `unsent` to `inFlight` when handed over and is released only when
/// acknowledged. Every byte counts against the stream's watermarks until then: the proxy is told
/// the stream is not writable above `highWatermark` and writable again below `lowWatermark`, which
/// pauses the upstream — a slow client cannot grow memory.
///
/// Pure bookkeeping (no I/O); owned by one ``HTTP3ServerStream`` on its event loop.
struct HTTP3SendQueue {
    private(set) var unsent = CircularBuffer<ByteBuffer>()
    /// Handed to nghttp3, not acknowledged yet; `inFlightHead` bytes of the first chunk are acknowledged.
    private(set) var inFlight = CircularBuffer<ByteBuffer>()
    private var inFlightHead = 0
    /// Bytes held: unsent plus handed over but unacknowledged.
    private(set) var bufferedBytes = 0
    /// The response's end has been queued (no more data will be appended).
    private(set) var ended = false
    private(set) var isWritable = true
    let highWatermark: Int
    let lowWatermark: Int

    init(highWatermark: Int, lowWatermark: Int) {
        precondition(lowWatermark < highWatermark)
        self.highWatermark = highWatermark
        self.lowWatermark = lowWatermark
    }

    /// Queues a chunk; returns `false` when this made the stream unwritable.
    mutating func append(_ chunk: ByteBuffer) -> Bool? {
        precondition(!ended, "data after the end of the response")
        guard chunk.readableBytes > 0 else { return nil }
        unsent.append(chunk)
        bufferedBytes += chunk.readableBytes
        return updateWritability()
    }

    mutating func end() { ended = true }

    /// Up to `max` unsent chunks, now in flight (in order). Empty: nothing to send right now.
    mutating func takeUnsent(max: Int) -> [ByteBuffer] {
        var taken: [ByteBuffer] = []
        while taken.count < max, let chunk = unsent.popFirst() {
            inFlight.append(chunk)
            taken.append(chunk)
        }
        return taken
    }

    var hasUnsent: Bool { !unsent.isEmpty }

    /// The peer acknowledged `count` more bytes, in stream order. Returns the new writability when
    /// it changed. Acknowledging more than was handed over is a bug in the caller: it is clamped.
    mutating func acknowledge(_ count: Int) -> Bool? {
        var remaining = count
        while remaining > 0, let first = inFlight.first {
            let left = first.readableBytes - inFlightHead
            if remaining >= left {
                remaining -= left
                bufferedBytes -= left
                inFlightHead = 0
                inFlight.removeFirst()
            } else {
                inFlightHead += remaining
                bufferedBytes -= remaining
                remaining = 0
            }
        }
        return updateWritability()
    }

    /// Drops everything (stream reset or closed): nothing is acknowledged any more.
    mutating func discard() {
        unsent.removeAll()
        inFlight.removeAll()
        inFlightHead = 0
        bufferedBytes = 0
    }

    private mutating func updateWritability() -> Bool? {
        if isWritable, bufferedBytes > highWatermark {
            isWritable = false
            return false
        }
        if !isWritable, bufferedBytes < lowWatermark {
            isWritable = true
            return true
        }
        return nil
    }
}
