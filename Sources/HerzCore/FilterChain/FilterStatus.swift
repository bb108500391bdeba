/// What a filter tells the ``FilterManager`` after it has seen a message's headers.
///
/// The contract is Envoy's (`envoy/http/filter.h`), restated:
/// - ``continue``: the headers go on to the next filter now.
/// - ``stopIteration``: the headers are held at this filter; later filters do not see them yet.
///   Body chunks still reach this filter (and the filters before it). A later `Continue` from
///   `decodeData`/`encodeData`, or `continueDecoding()`/`continueEncoding()`, releases the held
///   headers first and then any body this filter buffered.
/// - ``continueAndDontEndStream``: the headers go on with `endStream == false` even if the peer
///   ended the stream with them, so that this filter may add a body. The stream then ends when this
///   filter injects data with `endStream: true` or calls `continue…()`, which ends it with an
///   empty final chunk.
/// - ``stopAllIterationAndBuffer``: headers *and* body are held; the manager buffers the body before
///   this filter, up to the buffer limit. Over the limit the request gets a local 413 (requests) or
///   a 500 (responses). On continue, the buffered body is handed to this filter first.
/// - ``stopAllIterationAndWatermark``: as ``stopAllIterationAndBuffer``, but over the limit the
///   manager asks the I/O layer to stop reading from the peer (backpressure) instead of failing.
public enum FilterHeadersStatus: Sendable, Equatable {
    case `continue`
    case stopIteration
    case continueAndDontEndStream
    case stopAllIterationAndBuffer
    case stopAllIterationAndWatermark
}

/// What a filter tells the ``FilterManager`` after it has seen one body chunk.
///
/// - ``continue``: the chunk goes on (preceded by any held headers and buffered body of this filter).
/// - ``stopIterationAndBuffer``: the manager keeps the chunk in this filter's buffer; over the
///   buffer limit → local 413 (request) / 500 (response).
/// - ``stopIterationAndWatermark``: as above, but over the limit reading from the peer pauses until
///   the buffered bytes drain below half the limit.
/// - ``stopIterationNoBuffer``: the filter keeps the chunk itself (or drops it); the manager neither
///   passes nor buffers it. The filter may later inject data of its own.
public enum FilterDataStatus: Sendable, Equatable {
    case `continue`
    case stopIterationAndBuffer
    case stopIterationAndWatermark
    case stopIterationNoBuffer
}

/// What a filter tells the ``FilterManager`` after it has seen a message's trailers.
/// ``stopIteration`` holds the trailers (and so the end of the stream) until `continue…()`.
public enum FilterTrailersStatus: Sendable, Equatable {
    case `continue`
    case stopIteration
}
