/// Where a request goes on the demo upstream, decided from its method and URI alone.
///
/// Pure value type: no channel, no state, no allocation beyond the URI split. `resolve(method:uri:)`
/// is the whole routing table, so a reader (or a test) finds every endpoint here.
enum DemoRoute: Equatable {
    /// `/` and anything unmatched: `hello from NAME`.
    case hello
    /// `/small`: the 13-byte benchmark response.
    case small
    /// `/bytes/N`: N bytes streamed in fixed-size chunks with backpressure.
    case bytes(count: UInt64)
    /// `/echo`: the request body streamed back, chunked.
    case echo
    /// `/echo?headers=1`: a JSON summary of the request; the body is counted, not echoed.
    case echoSummary
    /// `/sink`: the request body consumed; answers `{"bytes": N}`.
    case sink
    /// `/delay/MS`: a `hello` answer after MS milliseconds.
    case delay(milliseconds: Int64)
    /// `/status/CODE`: that status with a short body.
    case status(code: Int)
    /// `/trailers`: body `ok` followed by `grpc-status: 0` and `x-trailer: yes` trailers.
    case trailers
    /// `/reset`: a head promising 100000 bytes, 10 bytes, then an abrupt reset.
    case reset
    /// `/close`: the connection is closed without any response.
    case close
    /// `/healthz`: `ok` or 503, as toggled by `/admin/(un)healthy`.
    case healthz
    /// `/expect`: honours `Expect: 100-continue`, answers with the body length.
    case expect
    /// `/admin/stats`: request counters as JSON.
    case adminStats
    /// `POST /admin/reset-stats`: zero the counters.
    case adminResetStats
    /// `POST /admin/healthy` (`true`) or `POST /admin/unhealthy` (`false`).
    case adminSetHealthy(Bool)
    /// `POST /admin/fault?delay_ms=MS&status=CODE`: from now on `hello` answers (`/` and other
    /// unmatched paths) wait MS and/or answer CODE; `POST /admin/fault` alone clears it. Lets a test
    /// make one endpoint of a cluster slow or failing while its siblings serve the same path.
    case adminSetFault(DemoFault)
    /// An admin endpoint called with a method other than the one it requires.
    case methodNotAllowed(allow: String)
    /// A parameterised path whose parameter does not parse.
    case badRequest(reason: String)

    /// Admin endpoints are not counted in the request statistics.
    var isAdmin: Bool {
        switch self {
        case .adminStats, .adminResetStats, .adminSetHealthy, .adminSetFault, .methodNotAllowed:
            return true
        default:
            return false
        }
    }

    /// Resolves a request line to a route. Methods matter only for the mutating admin endpoints.
    static func resolve(method: String, uri: String) -> DemoRoute {
        // Fast path for the benchmark.
        if uri == "/small" { return .small }

        let path: Substring
        let query: Substring
        if let q = uri.firstIndex(of: "?") {
            path = uri[..<q]
            query = uri[uri.index(after: q)...]
        } else {
            path = uri[...]
            query = ""
        }

        switch path {
        case "/small": return .small
        case "/echo": return query.split(separator: "&").contains("headers=1") ? .echoSummary : .echo
        case "/sink": return .sink
        case "/trailers": return .trailers
        case "/reset": return .reset
        case "/close": return .close
        case "/healthz": return .healthz
        case "/expect": return .expect
        case "/admin/stats": return .adminStats
        case "/admin/reset-stats": return method == "POST" ? .adminResetStats : .methodNotAllowed(allow: "POST")
        case "/admin/healthy": return method == "POST" ? .adminSetHealthy(true) : .methodNotAllowed(allow: "POST")
        case "/admin/unhealthy": return method == "POST" ? .adminSetHealthy(false) : .methodNotAllowed(allow: "POST")
        case "/admin/fault":
            guard method == "POST" else { return .methodNotAllowed(allow: "POST") }
            guard let fault = DemoFault(query: query) else {
                return .badRequest(reason: "bad fault '\(query)' (want delay_ms=0.. and/or status=200-599)")
            }
            return .adminSetFault(fault)
        default: break
        }

        if let n = parameter(of: path, prefix: "/bytes/") {
            guard let count = UInt64(n) else { return .badRequest(reason: "bad byte count '\(n)'") }
            return .bytes(count: count)
        }
        if let n = parameter(of: path, prefix: "/delay/") {
            guard let ms = Int64(n), ms >= 0 else { return .badRequest(reason: "bad delay '\(n)'") }
            return .delay(milliseconds: ms)
        }
        if let n = parameter(of: path, prefix: "/status/") {
            guard let code = Int(n), (200...599).contains(code) else {
                return .badRequest(reason: "bad status code '\(n)' (want 200-599)")
            }
            return .status(code: code)
        }
        return .hello
    }

    private static func parameter(of path: Substring, prefix: String) -> Substring? {
        guard path.hasPrefix(prefix) else { return nil }
        return path.dropFirst(prefix.count)
    }
}

/// A fault the demo upstream injects into its `hello` answers (see ``DemoRoute/adminSetFault(_:)``).
struct DemoFault: Equatable, Sendable {
    var delayMilliseconds: Int64 = 0
    /// nil: answer `hello` (200).
    var status: Int?

    var isActive: Bool { delayMilliseconds > 0 || status != nil }

    init(delayMilliseconds: Int64 = 0, status: Int? = nil) {
        self.delayMilliseconds = delayMilliseconds
        self.status = status
    }

    /// Parses `delay_ms=N&status=CODE` (both optional); nil when a value does not parse.
    init?(query: Substring) {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            switch parts[0] {
            case "delay_ms":
                guard let ms = Int64(parts[1]), ms >= 0 else { return nil }
                delayMilliseconds = ms
            case "status":
                guard let code = Int(parts[1]), (200...599).contains(code) else { return nil }
                status = code
            default:
                return nil
            }
        }
    }
}
