import Atomics
import HerzCore
import NIOConcurrencyHelpers
import NIOCore

/// Cluster state shared by every worker: active-health verdicts, outlier ejections,
/// circuit-breaker counters and per-endpoint stats.
///
/// Counters and flags are atomics, read and updated without locks. The outlier detector is the one
/// locked piece (a few nanoseconds per finished upstream attempt, only when `outlier_detection` is
/// configured), so that ejection decisions are cluster-wide as in Envoy rather than per worker.
/// Survives a reload when the cluster's config is unchanged.
public final class SharedCluster: @unchecked Sendable {
    public let config: ClusterConfig
    /// The name of this cluster's upstream-attempt trace spans, `upstream NAME` (made once).
    let upstreamSpanName: String
    /// Per endpoint: `true` while active health checking considers it healthy. Without a health
    /// check always `true`; with one, `false` until its first verdict (panic mode covers the start).
    public let healthy: [ManagedAtomic<Bool>]
    /// Bumped whenever a health verdict or an ejection changes, so workers refresh their balancers.
    public let availabilityVersion = ManagedAtomic<Int>(0)
    public let endpointStats: [EndpointStats]
    /// Endpoint addresses resolved when the config was compiled (off the event loops, so workers
    /// never block on DNS); `nil` where resolution failed (connects then fail with a clear error).
    let resolvedAddresses: [SocketAddress?]
    private let outlier: NIOLockedValueBox<OutlierDetector>?
    /// Earliest pending un-ejection (uptime nanoseconds), `UInt64.max` when nothing is ejected.
    private let nextUnejectNanos = ManagedAtomic<UInt64>(.max)

    // Circuit-breaker counters (cluster-wide, across workers).
    public let activeRequests = ManagedAtomic<Int>(0)
    public let pendingRequests = ManagedAtomic<Int>(0)
    public let connections = ManagedAtomic<Int>(0)
    public let activeRetries = ManagedAtomic<Int>(0)

    /// TLS to the endpoints (`tls:` on the cluster), shared by every worker; nil: cleartext.
    let tls: UpstreamTLS?

    init(config: ClusterConfig, tls: UpstreamTLS? = nil) {
        self.config = config
        self.upstreamSpanName = "upstream \(config.name)"
        self.tls = tls
        let checked = config.healthCheck != nil
        self.healthy = config.endpoints.map { _ in ManagedAtomic(!checked) }
        self.endpointStats = config.endpoints.map { _ in EndpointStats() }
        self.resolvedAddresses = config.endpoints.map {
            try? SocketAddress.makeAddressResolvingHost($0.address.host, port: $0.address.port)
        }
        self.outlier = config.outlierDetection.map {
            NIOLockedValueBox(OutlierDetector(config: $0, endpointCount: config.endpoints.count))
        }
    }

    /// Records an active health verdict; returns true if it changed.
    @discardableResult
    public func setHealthy(_ endpoint: Int, _ value: Bool) -> Bool {
        let old = healthy[endpoint].exchange(value, ordering: .relaxed)
        if old != value { availabilityVersion.wrappingIncrement(ordering: .releasing) }
        return old != value
    }

    /// Feeds one finished upstream attempt to outlier detection.
    func recordOutcome(endpoint: Int, outcome: UpstreamOutcome) {
        let stats = endpointStats[endpoint]
        if outcome.isFailure { stats.failures.wrappingIncrement(ordering: .relaxed) }
        guard let outlier else { return }
        let now = NIODeadline.now()
        let action = outlier.withLockedValue { $0.recordResponse(endpoint: endpoint, outcome: outcome, now: now) }
        if case .eject(let endpoint, let until) = action {
            endpointStats[endpoint].ejected.store(true, ordering: .relaxed)
            endpointStats[endpoint].ejections.wrappingIncrement(ordering: .relaxed)
            let deadline = UInt64(until.uptimeNanoseconds)
            var current = nextUnejectNanos.load(ordering: .relaxed)
            while deadline < current {
                let (exchanged, original) = nextUnejectNanos.compareExchange(expected: current, desired: deadline, ordering: .relaxed)
                if exchanged { break }
                current = original
            }
            availabilityVersion.wrappingIncrement(ordering: .releasing)
        }
    }

    /// Ends ejections whose time is up. Cheap when none is due (one atomic load); called on every
    /// pick and by the admin views.
    func unejectIfDue(now: NIODeadline = .now()) {
        guard let outlier, UInt64(now.uptimeNanoseconds) >= nextUnejectNanos.load(ordering: .relaxed) else { return }
        let (released, next) = outlier.withLockedValue { detector -> ([Int], NIODeadline?) in
            (detector.unejectDue(now: now), detector.nextUnejectDeadline)
        }
        nextUnejectNanos.store(next.map { UInt64($0.uptimeNanoseconds) } ?? .max, ordering: .relaxed)
        guard !released.isEmpty else { return }
        for endpoint in released { endpointStats[endpoint].ejected.store(false, ordering: .relaxed) }
        availabilityVersion.wrappingIncrement(ordering: .releasing)
    }
}

/// Counters for one endpoint, summed over all workers.
public final class EndpointStats: @unchecked Sendable {
    public let requests = ManagedAtomic<Int>(0)
    public let failures = ManagedAtomic<Int>(0)
    public let activeRequests = ManagedAtomic<Int>(0)
    public let ejected = ManagedAtomic<Bool>(false)
    public let ejections = ManagedAtomic<Int>(0)
}
