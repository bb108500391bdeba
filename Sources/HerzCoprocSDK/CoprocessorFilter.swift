@_exported import HerzCoproc

/// What a Swift coprocessor implements: one method per filter phase, each taking the kernel's call
/// and returning the answer. Every method has a default that continues without changes, so a filter
/// implements only the phases it cares about.
///
/// Threads: methods are called concurrently from the server's ring threads (one per kernel worker
/// and session), so an implementation must be `Sendable` and keep shared state thread-safe; calls of
/// one stream always arrive on one ring thread, in order. `reload` runs on the server's main thread.
///
/// Per-stream state: implement `makeRingFilter()` to serve each ring from its own filter value (as the
/// Rust SDK keeps one stream table per worker); it then needs no lock and ends with its session.
public protocol CoprocessorFilter: Sendable {
    func onRequestHeaders(_ call: CoprocCall) -> AnswerResult
    func onRequestBody(_ call: CoprocCall) -> AnswerResult
    func onRequestTrailers(_ call: CoprocCall) -> AnswerResult
    func onResponseHeaders(_ call: CoprocCall) -> AnswerResult
    func onResponseBody(_ call: CoprocCall) -> AnswerResult
    func onResponseTrailers(_ call: CoprocCall) -> AnswerResult
    /// The stream finished (`reset`: abnormally): drop per-stream state. Default: nothing.
    func onStreamEnd(streamId: UInt64, reset: Bool)
    /// Reloads configuration or keys (`herzctl coproc reload NAME`); returns a message for the
    /// operator, throws when the reload failed (the old configuration stays). Default: nothing to reload.
    func reload(payload: String) throws -> String
    /// Capabilities announced in the handshake. Default: every phase and "reload".
    var capabilities: [String] { get }
    /// The filter that serves one ring pair (one kernel worker of one session): made on the server's
    /// main thread when the session attaches, then called for that ring's calls and `onStreamEnd`s on
    /// that ring's thread only, and dropped when the session closes. The place for per-stream state:
    /// stream ids are unique only within one kernel process, so state keyed by them must not outlive
    /// the session. `reload` and `capabilities` are always asked of the server's filter. Default: `self`.
    func makeRingFilter() -> any CoprocessorFilter
}

extension CoprocessorFilter {
    public func onRequestHeaders(_ call: CoprocCall) -> AnswerResult { .headers(.continue, HeaderMutation()) }
    public func onRequestBody(_ call: CoprocCall) -> AnswerResult { .data(.continue, body: nil) }
    public func onRequestTrailers(_ call: CoprocCall) -> AnswerResult { .trailers(.continue, HeaderMutation()) }
    public func onResponseHeaders(_ call: CoprocCall) -> AnswerResult { .headers(.continue, HeaderMutation()) }
    public func onResponseBody(_ call: CoprocCall) -> AnswerResult { .data(.continue, body: nil) }
    public func onResponseTrailers(_ call: CoprocCall) -> AnswerResult { .trailers(.continue, HeaderMutation()) }
    public func onStreamEnd(streamId: UInt64, reset: Bool) {}
    public func reload(payload: String) throws -> String { "nothing to reload" }
    public var capabilities: [String] { CallPhase.allCases.map { "phase:\($0.configName)" } + ["reload"] }
    public func makeRingFilter() -> any CoprocessorFilter { self }

    /// Dispatches a call to the method of its phase.
    public func answer(_ call: CoprocCall) -> AnswerResult {
        switch call.phase {
        case .requestHeaders: return onRequestHeaders(call)
        case .requestBody: return onRequestBody(call)
        case .requestTrailers: return onRequestTrailers(call)
        case .responseHeaders: return onResponseHeaders(call)
        case .responseBody: return onResponseBody(call)
        case .responseTrailers: return onResponseTrailers(call)
        }
    }
}
