import NIOHTTP1

/// The downstream side of one stream, as the ``ProxyStream`` sees it: an HTTP/1.1 connection's
/// current request or one HTTP/2 stream channel. Implemented by ``DownstreamHTTPHandler``.
protocol DownstreamResponder: AnyObject {
    func writeResponse(_ part: HTTPServerResponsePart)
    /// Writes the response's end; with `thenClose`, closes the connection (HTTP/1.1) or the stream
    /// (HTTP/2, RST_STREAM after the complete response) once everything before it has been written.
    func writeResponseEnd(_ trailers: HTTPHeaders?, thenClose: Bool)
    func flushResponse()
    /// Pause (`false`) or resume reading the request body.
    func setRequestReading(_ enabled: Bool)
    /// Sends an informational `100 Continue`.
    func sendContinue()
    /// `stream` is over. `reset`: the response is incomplete and the peer must see an error now. `reset`: the response is incomplete, so the downstream must see an
    /// error (HTTP/1.1: close the connection; HTTP/2: RST_STREAM), never a response that looks whole.
    func streamFinished(_ stream: ProxyStream, reset: Bool, closeConnection: Bool)
}
