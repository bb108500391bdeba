import NIOCore

/// An upstream cluster: endpoints, how to pick one, and how to protect them.
public struct ClusterConfig: Sendable, Equatable {
    public enum LBPolicy: String, Sendable, Equatable, CaseIterable {
        case roundRobin = "round_robin"
        case leastRequest = "least_request"
        case random
        case ringHash = "ring_hash"
        case maglev
    }
    public enum UpstreamProtocol: String, Sendable, Equatable { case http1, http2 }

    public var name: String
    public var lbPolicy: LBPolicy
    public var endpoints: [EndpointConfig]
    public var upstreamProtocol: UpstreamProtocol
    public var connectTimeout: TimeAmount
    public var circuitBreakers: CircuitBreakerConfig
    public var healthCheck: HealthCheckConfig?
    public var outlierDetection: OutlierDetectionConfig?
    public var subset: SubsetConfig?
    /// `ring_hash`: minimum ring entries; `maglev`: table size (a prime).
    public var ringHashMinimumRingSize: Int
    public var maglevTableSize: Int
    /// Idle keep-alive upstream connections are closed after this.
    public var idleConnectionTimeout: TimeAmount
    /// TLS to the endpoints (nil: cleartext); see docs/tls.md.
    public var tls: UpstreamTLSConfig? = nil

    public init(name: String, lbPolicy: LBPolicy = .roundRobin, endpoints: [EndpointConfig],
                upstreamProtocol: UpstreamProtocol = .http1, connectTimeout: TimeAmount = .seconds(1),
                circuitBreakers: CircuitBreakerConfig = .init(), healthCheck: HealthCheckConfig? = nil,
                outlierDetection: OutlierDetectionConfig? = nil, subset: SubsetConfig? = nil,
                ringHashMinimumRingSize: Int = 1024, maglevTableSize: Int = 65537,
                idleConnectionTimeout: TimeAmount = .seconds(60)) {
        self.name = name; self.lbPolicy = lbPolicy; self.endpoints = endpoints
        self.upstreamProtocol = upstreamProtocol; self.connectTimeout = connectTimeout
        self.circuitBreakers = circuitBreakers; self.healthCheck = healthCheck
        self.outlierDetection = outlierDetection; self.subset = subset
        self.ringHashMinimumRingSize = ringHashMinimumRingSize; self.maglevTableSize = maglevTableSize
        self.idleConnectionTimeout = idleConnectionTimeout
    }
}

public struct EndpointConfig: Sendable, Hashable {
    public var address: HostPort
    public var weight: Int
    public var metadata: [String: String]
    public init(address: HostPort, weight: Int = 1, metadata: [String: String] = [:]) {
        self.address = address; self.weight = weight; self.metadata = metadata
    }
}

/// Envoy's cluster circuit breakers; over a limit → local 503 with `x-herz-overloaded: true`.
public struct CircuitBreakerConfig: Sendable, Equatable {
    public var maxConnections: Int = 1024
    public var maxPendingRequests: Int = 1024
    public var maxRequests: Int = 1024
    public var maxRetries: Int = 3
    public init(maxConnections: Int = 1024, maxPendingRequests: Int = 1024, maxRequests: Int = 1024, maxRetries: Int = 3) {
        self.maxConnections = maxConnections; self.maxPendingRequests = maxPendingRequests
        self.maxRequests = maxRequests; self.maxRetries = maxRetries
    }
}

/// Active HTTP health checking.
public struct HealthCheckConfig: Sendable, Equatable {
    public var interval: TimeAmount
    public var timeout: TimeAmount
    public var healthyThreshold: Int
    public var unhealthyThreshold: Int
    public var path: String
    /// Statuses counted as healthy (default 200...299).
    public var expectedStatuses: [ClosedRange<Int>]
    public init(interval: TimeAmount = .seconds(5), timeout: TimeAmount = .seconds(1), healthyThreshold: Int = 2,
                unhealthyThreshold: Int = 3, path: String = "/healthz", expectedStatuses: [ClosedRange<Int>] = [200...299]) {
        self.interval = interval; self.timeout = timeout; self.healthyThreshold = healthyThreshold
        self.unhealthyThreshold = unhealthyThreshold; self.path = path; self.expectedStatuses = expectedStatuses
    }
}

/// Passive outlier detection: `consecutive_5xx` failures eject an endpoint for
/// `base_ejection_time × (times ejected)`, capped at `max_ejection_time`; never more than
/// `max_ejection_percent` of the cluster at once.
public struct OutlierDetectionConfig: Sendable, Equatable {
    public var consecutive5xx: Int
    public var baseEjectionTime: TimeAmount
    public var maxEjectionTime: TimeAmount
    public var maxEjectionPercent: Int
    public init(consecutive5xx: Int = 5, baseEjectionTime: TimeAmount = .seconds(30),
                maxEjectionTime: TimeAmount = .seconds(300), maxEjectionPercent: Int = 10) {
        self.consecutive5xx = consecutive5xx; self.baseEjectionTime = baseEjectionTime
        self.maxEjectionTime = maxEjectionTime; self.maxEjectionPercent = maxEjectionPercent
    }
}

/// Envoy's subset load balancer: routes ask for endpoint metadata (`metadata_match`), the cluster
/// keeps one balancer per subset named by `selectors` (lists of metadata keys).
public struct SubsetConfig: Sendable, Equatable {
    public enum Fallback: String, Sendable, Equatable {
        /// No matching subset → 503.
        case noFallback = "no_fallback"
        /// No matching subset → any endpoint of the cluster.
        case anyEndpoint = "any_endpoint"
        /// No matching subset → the subset `default_subset` describes.
        case defaultSubset = "default_subset"
    }
    public var selectors: [[String]]
    public var fallback: Fallback
    public var defaultSubset: [String: String]
    public init(selectors: [[String]], fallback: Fallback = .noFallback, defaultSubset: [String: String] = [:]) {
        self.selectors = selectors; self.fallback = fallback; self.defaultSubset = defaultSubset
    }
}
