import NIOCore

/// The mutable state of one event loop's share of the demo upstream: request counts and the
/// health flag.
///
/// Owned by exactly one event loop and only touched on it (enforced by `NIOLoopBound` in
/// `UpstreamState`), so the hot path increments a plain integer: no lock, no atomic.
final class UpstreamCounters {
    /// Non-admin requests whose head arrived on this loop since start or the last reset.
    var requests: UInt64 = 0
    /// Of those, how many were `/healthz` probes.
    var healthzRequests: UInt64 = 0
    /// What `/healthz` answers on this loop. All loops are changed together by `UpstreamState`.
    var healthy = true
    /// What `hello` answers do on this loop (none by default). All loops are changed together.
    var fault = DemoFault()
}
