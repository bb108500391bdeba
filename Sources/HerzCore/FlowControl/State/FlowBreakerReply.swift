/// The local reply for an attempt the cluster's flow breaker refused: 503, no upstream attempt,
/// `x-herz-breaker: open` (or `half_open` when every probe slot is taken) — the breaker's sibling of
/// the `x-herz-overloaded: true` that Herz's YAML circuit-breaker limits set — and, while open,
/// `retry-after` with the whole seconds until it half-opens (rounded up, at least 1).
public struct FlowBreakerReply: Sendable {
    /// The response header naming the breaker's state.
    public static let header = "x-herz-breaker"

    public let headers: [(String, String)]
    public let body: String

    public init(cluster: String, phase: FlowClusterController.Phase, retryAfterNanos: UInt64?) {
        var headers = [(Self.header, phase.rawValue)]
        if let retryAfterNanos, let seconds = FlowRetryAfter.auto.seconds(waitNanos: retryAfterNanos) {
            headers.append(("retry-after", String(seconds)))
        }
        self.headers = headers
        self.body = "cluster \(cluster): circuit breaker \(phase == .halfOpen ? "half-open" : phase.rawValue)\n"
    }
}
