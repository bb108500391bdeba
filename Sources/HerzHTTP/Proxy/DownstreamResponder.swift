import NIOHTTP1

/// The downstream side of one stream, as the ``ProxyStream`` sees it: an HTTP/1.1 connection's
/// current request or one HTTP/2 stream channel. Implemented by ``DownstreamHTTPHandler``.
protocol DownstreamResponder: AnyObject {
    func writeResponse(_ part: HTTPServerResponsePart)
    func flushResponse()
    /// Pause (`false`) or resume reading the request body.
    func setRequestReading(_ enabled: Bool)
    var isResponseWritable: Bool { get }
    /// Sends an informational `100 Continue`.
    func sendContinue()
    /// `stream` is over (a pipelined successor may already have started: compare identity). `reset`: the response is incomplete, so the downstream must see an
    /// error (HTTP/1.1: close the connection; HTTP/2: RST_STREAM), never a response that looks whole.
    func streamFinished(_ stream: ProxyStream, reset: Bool, closeConnection: Bool)
}
