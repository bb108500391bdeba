/// Which endpoints of a cluster the load balancers may use: active health and outlier ejection
/// combined into the `[Bool]` that ``LoadBalancer/updateAvailability(_:)`` takes, with panic mode.
///
/// Pure state, one per cluster per worker, owned by that worker's event loop. Every mutating call
/// returns whether ``available`` changed; only then does the caller push it to the balancer.
///
/// Rules:
/// - An endpoint is *usable* when it is healthy and not ejected. Ejection wins over everything,
///   weight included: an ejected endpoint gets no traffic outside panic mode.
/// - Without active health checks every endpoint starts healthy; with them every endpoint starts
///   unknown = not healthy (see ``HealthCheckStateMachine``) until its first check.
/// - Panic mode (Herz's decision): when fewer than `panicThresholdPercent` % of endpoints are
///   usable — and always when *none* is — every endpoint is offered to the balancers, because
///   routing to possibly bad hosts beats a certain 503 for every request (Envoy does the same).
///   Herz's default threshold is 0, i.e. panic only when nothing is usable; Envoy's default is 50 %,
///   which sends traffic to known-bad hosts as soon as half the cluster is down. Pass 50 for parity.
///   A cluster with no endpoints is never in panic and has nothing available.
public struct EndpointAvailability: Sendable, Equatable {
    public let panicThresholdPercent: Int
    private var healthy: [Bool]
    private var ejected: [Bool]
    /// What the balancers get: usable endpoints, or all of them in panic mode.
    public private(set) var available: [Bool]
    public private(set) var isPanicking = false
    /// Endpoints that are healthy and not ejected (whatever panic mode does).
    public private(set) var usableCount = 0

    /// - Parameters:
    ///   - healthChecked: whether the cluster has active health checks (endpoints then start unknown).
    ///   - panicThresholdPercent: below this share of usable endpoints, use all (0 = only when none).
    public init(endpointCount: Int, healthChecked: Bool, panicThresholdPercent: Int = 0) {
        self.panicThresholdPercent = min(max(panicThresholdPercent, 0), 100)
        healthy = [Bool](repeating: !healthChecked, count: endpointCount)
        ejected = [Bool](repeating: false, count: endpointCount)
        available = [Bool](repeating: false, count: endpointCount)
        recompute()
    }

    public func isHealthy(_ endpoint: Int) -> Bool { healthy[endpoint] }
    public func isEjected(_ endpoint: Int) -> Bool { ejected[endpoint] }

    /// Sets the active-health state of `endpoint`.
    @discardableResult
    public mutating func setHealthy(_ endpoint: Int, _ value: Bool) -> Bool {
        guard healthy[endpoint] != value else { return false }
        healthy[endpoint] = value
        return recompute()
    }

    /// Sets the ejection state of `endpoint`.
    @discardableResult
    public mutating func setEjected(_ endpoint: Int, _ value: Bool) -> Bool {
        guard ejected[endpoint] != value else { return false }
        ejected[endpoint] = value
        return recompute()
    }

    /// Applies a transition from `endpoint`'s ``HealthCheckStateMachine``.
    @discardableResult
    public mutating func apply(_ transition: HealthTransition, endpoint: Int) -> Bool {
        setHealthy(endpoint, transition == .becameHealthy)
    }

    /// Applies a decision of the ``OutlierDetector`` (a skipped ejection changes nothing).
    @discardableResult
    public mutating func apply(_ action: OutlierAction) -> Bool {
        switch action {
        case .eject(let endpoint, _): return setEjected(endpoint, true)
        case .ejectionSkipped: return false
        }
    }

    /// Returns endpoints from ``OutlierDetector/unejectDue(now:)`` to service.
    @discardableResult
    public mutating func uneject(_ endpoints: [Int]) -> Bool {
        var changed = false
        for endpoint in endpoints where ejected[endpoint] {
            ejected[endpoint] = false
            changed = true
        }
        return changed ? recompute() : false
    }

    /// Recomputes `available`; returns whether it changed.
    @discardableResult
    private mutating func recompute() -> Bool {
        let n = healthy.count
        var usable = 0
        for i in 0..<n where healthy[i] && !ejected[i] { usable += 1 }
        usableCount = usable
        isPanicking = n > 0 && (usable == 0 || usable * 100 < panicThresholdPercent * n)
        var next = available
        for i in 0..<n { next[i] = isPanicking || (healthy[i] && !ejected[i]) }
        guard next != available else { return false }
        available = next
        return true
    }
}
