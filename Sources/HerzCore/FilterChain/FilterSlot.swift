/// How a stopped filter wants the manager to treat body bytes buffered on its behalf when they
/// exceed the buffer limit.
enum BufferMode {
    /// Over the limit the stream fails (413 for requests, 500 or a reset for responses).
    case buffer
    /// Over the limit the manager pauses the peer until the buffer drains to half the limit.
    case watermark
}

/// The iteration state of one position of the chain in one direction.
///
/// Position `p` holds the filter at that position (in the direction's order) and the queue of frames
/// waiting to enter it. The extra last position is the terminal (the sink): its queue holds what the
/// last filter passed but has not released yet.
struct FilterSlot<Head> {
    /// Frames that left the previous position and have not entered this one.
    var pending = PendingFrames<Head>()

    /// Set by `stopAllIteration…`: no frame enters this filter until it continues.
    var inputBlock: BufferMode?
    /// Set by any stop status: what this filter passed stays in the next position's queue.
    var outputBlocked = false
    /// How body bytes held behind this filter count against the limit.
    var bufferMode: BufferMode = .buffer

    /// The span of this filter's current stop (sampled requests only; FilterManager+Tracing).
    var traceSpan: SpanHandle?

    /// The filter has returned from its headers callback.
    var headersDone = false
    /// The filter has seen the end of the message.
    var sawEnd = false
    /// The end of the message has left this filter (passed on or queued after it).
    var endPassed = false

    /// The filter consumed the end of the message without passing it on
    /// (`continueAndDontEndStream`, or `stopIterationNoBuffer` on the last chunk).
    var endHeld: Bool { self.sawEnd && !self.endPassed }

    /// Whether a `continue…()` from this filter has anything to resume.
    var isStopped: Bool { self.inputBlock != nil || self.outputBlocked || self.endHeld }
}
