import HerzCore
import HerzCoproc

/// A message direction of one stream, and its three call phases.
public enum CoprocDirection: Sendable, Equatable {
    case request, response

    public var headersPhase: CallPhase { self == .request ? .requestHeaders : .responseHeaders }
    public var bodyPhase: CallPhase { self == .request ? .requestBody : .responseBody }
    public var trailersPhase: CallPhase { self == .request ? .requestTrailers : .responseTrailers }
}

/// What to do with a message's `content-length` when its head leaves the filter after the body may
/// have been changed by a coprocessor.
public enum ContentLengthEdit: Equatable, Sendable {
    /// The body passes unchanged (or there is none): leave the head alone.
    case keep
    /// The body may still change: drop `content-length`, the codec frames the body (chunked/DATA).
    case remove
    /// The whole (possibly replaced) body already left the filter: its exact size.
    case set(Int)
}

extension CallPhase {
    /// The wire phase of a configured phase (they share their names).
    init(_ phase: CoprocFilterConfig.Phase) {
        self = CallPhase.allCases.first { $0.configName == phase.rawValue }!
    }
}
