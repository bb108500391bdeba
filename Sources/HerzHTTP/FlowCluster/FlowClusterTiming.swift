/// How often the cluster layer measures and decides (docs/flow-control.md, "Cluster layer").
///
/// - Every `periodNanos` each worker hands what it measured per endpoint to the cluster (one lock
///   per cluster and worker per period), and the kernel recomputes every dynamic weight once.
/// - Weights follow the last `windowSlots` periods: long enough for a p95 over a few dozen
///   requests, short enough that an endpoint's slow past leaves the window within seconds of its
///   recovery.
struct FlowClusterTiming: Sendable {
    var periodNanos: UInt64 = 1_000_000_000
    var windowSlots = 5

    var windowNanos: UInt64 { periodNanos * UInt64(windowSlots) }
}
