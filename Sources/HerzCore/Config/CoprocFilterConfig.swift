import NIOHTTP1

/// `coproc`: hands chosen filter callbacks of every stream to a named coprocessor
/// (docs/coprocessor-protocol.md section 4). Immutable, validated config; the filter itself lives
/// in the `HerzCoprocFilter` target.
///
/// ```yaml
/// - type: coproc
///   config:
///     coprocessor: jwt                  # an entry of `coprocessors:` (or a --coproc flag)
///     phases: [request_headers]         # default [request_headers, response_headers]
///     max_body_bytes: 1MiB              # body waiting in the filter per direction; default 1 MiB
///     settings: { audience: api }       # any mapping, sent to the coprocessor as JSON text
/// ```
///
/// In a route's `per_filter_config`, `coproc: { disabled: true }` switches every coproc filter off
/// for that route; with `coprocessor: NAME` only the filters calling NAME are affected, and a full
/// config (phases, settings…) replaces theirs.
public struct CoprocFilterConfig: Sendable, Equatable {
    /// The filter callbacks a coprocessor can be called for (`CallPhase` on the wire).
    public enum Phase: String, Sendable, Equatable, CaseIterable {
        case requestHeaders = "request_headers", requestBody = "request_body", requestTrailers = "request_trailers"
        case responseHeaders = "response_headers", responseBody = "response_body", responseTrailers = "response_trailers"
    }

    public static let defaultPhases: [Phase] = [.requestHeaders, .responseHeaders]
    public static let defaultMaxBodyBytes = 1 << 20

    /// The coprocessor's name; `""` only in a route override that disables every coproc filter.
    public var coprocessor: String
    /// Configured phases in config order, without duplicates.
    public var phases: [Phase]
    public var maxBodyBytes: Int
    /// `settings` as compact JSON text (`""` when not given), passed verbatim in `CoprocCall.filterConfig`.
    public var settingsJSON: String
    /// Only meaningful in a route override: the matching coproc filters do nothing on that route.
    public var disabled: Bool

    public init(coprocessor: String, phases: [Phase] = CoprocFilterConfig.defaultPhases,
                maxBodyBytes: Int = CoprocFilterConfig.defaultMaxBodyBytes, settingsJSON: String = "", disabled: Bool = false) {
        self.coprocessor = coprocessor
        self.phases = phases
        self.maxBodyBytes = maxBodyBytes
        self.settingsJSON = settingsJSON
        self.disabled = disabled
    }

    /// The config that applies on `route`: the listener's own, replaced or disabled by the route's
    /// `per_filter_config["coproc"]` when that names this coprocessor (or no coprocessor at all).
    public func effective(on route: RouteEntry?) -> CoprocFilterConfig {
        guard case .coproc(let override)? = route?.perFilterConfig["coproc"],
              override.coprocessor.isEmpty || override.coprocessor == self.coprocessor else { return self }
        if override.disabled || override.coprocessor.isEmpty {
            var disabled = self
            disabled.disabled = disabled.disabled || override.disabled
            return disabled
        }
        return override
    }
}

/// The local reply of a coprocessor call that failed under `on_failure: fail_closed`
/// (docs/coprocessor-protocol.md section 7): 503, body `coprocessor NAME unavailable (REASON)`,
/// header `x-herz-coproc-error: REASON`. Shared by the `coproc` filter and its stand-in.
public enum CoprocFailureReply {
    public static let status: HTTPResponseStatus = .serviceUnavailable
    public static let errorHeader = "x-herz-coproc-error"

    public static func body(coprocessor: String, reason: String) -> String {
        "coprocessor \(coprocessor) unavailable (\(reason))"
    }

    public static func headers(reason: String) -> HTTPHeaders {
        [errorHeader: reason]
    }
}
