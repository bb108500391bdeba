/// Why a call to the admin API failed, one case per thing the operator can act on.
enum AdminClientError: Error, Equatable {
    /// `--admin` / `$HERZ_ADMIN` is not a usable URL.
    case invalidURL(String, reason: String)
    /// No connection could be made (refused, unknown host, timeout while connecting …).
    case unreachable(url: String, reason: String)
    /// Connected, but no complete answer arrived within the timeout.
    case timedOut(url: String, seconds: Double)
    /// Connected, but the connection ended or failed before a complete answer.
    case brokenResponse(url: String, reason: String)

    /// The line printed to stderr.
    var message: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "herzctl: invalid admin URL '\(url)': \(reason)"
        case .unreachable(let url, let reason):
            return "herzctl: cannot reach admin API at \(url): \(reason)"
        case .timedOut(let url, let seconds):
            return "herzctl: admin API at \(url) did not answer within \(seconds)s"
        case .brokenResponse(let url, let reason):
            return "herzctl: bad answer from admin API at \(url): \(reason)"
        }
    }
}
