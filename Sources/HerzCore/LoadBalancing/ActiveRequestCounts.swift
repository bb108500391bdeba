/// Outstanding requests per endpoint of one cluster, as seen by one worker: the load signal of
/// ``LeastRequestBalancer``.
///
/// Owned by one event loop (not thread-safe). A reference type so that several balancers over the
/// same cluster (the subsets of a ``SubsetLoadBalancer``) see one count. The I/O layer drives it
/// through ``LoadBalancer/requestStarted(_:)`` / ``LoadBalancer/requestFinished(_:)``; a finish
/// without a start is ignored (never negative).
public final class ActiveRequestCounts {
    public private(set) var counts: [Int]

    public init(endpointCount: Int) {
        counts = [Int](repeating: 0, count: endpointCount)
    }

    public subscript(endpoint: Int) -> Int { counts[endpoint] }

    public func started(_ endpoint: Int) { counts[endpoint] += 1 }

    public func finished(_ endpoint: Int) {
        if counts[endpoint] > 0 { counts[endpoint] -= 1 }
    }
}
