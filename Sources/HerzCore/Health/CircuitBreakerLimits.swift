/// Envoy-style cluster circuit breakers as a pure decision: given the limits and the current
/// counts, may one more connection / pending request / request / retry start?
///
/// Stateless apart from the config; the caller (one worker's upstream pool for the cluster) owns the
/// counts and passes them in as they are *before* the new item. "At the limit" rejects
/// (`count >= max`). What a rejection means:
/// - ``admitConnection(_:)`` rejected (`max_connections`): do not open a connection; queue the
///   request as pending instead (if ``admitPendingRequest(_:)`` allows). Not a failure by itself.
/// - ``admitPendingRequest(_:)`` / ``admitRequest(_:)`` rejected: answer a local 503 with
///   ``overloadedHeader``: `true`.
/// - ``admitRetry(_:)`` rejected (`max_retries`): do not retry; the current response goes back.
/// The rejected limit is reported for metrics (`…_overflow` counters).
public struct CircuitBreakerLimits: Sendable, Equatable {
    /// Response header set on local replies caused by a circuit breaker.
    public static let overloadedHeader = "x-herz-overloaded"

    public let config: CircuitBreakerConfig

    public init(config: CircuitBreakerConfig) { self.config = config }

    /// Opening one more upstream connection.
    public func admitConnection(_ counts: CircuitBreakerCounts) -> CircuitBreakerDecision {
        counts.connections < config.maxConnections ? .allow : .reject(.maxConnections)
    }

    /// Queuing one more request that waits for a connection.
    public func admitPendingRequest(_ counts: CircuitBreakerCounts) -> CircuitBreakerDecision {
        counts.pendingRequests < config.maxPendingRequests ? .allow : .reject(.maxPendingRequests)
    }

    /// Starting one more request to the cluster (first attempts and retries alike).
    public func admitRequest(_ counts: CircuitBreakerCounts) -> CircuitBreakerDecision {
        counts.activeRequests < config.maxRequests ? .allow : .reject(.maxRequests)
    }

    /// Starting one more retry. A retry is also a request: both limits apply, retries first.
    public func admitRetry(_ counts: CircuitBreakerCounts) -> CircuitBreakerDecision {
        guard counts.activeRetries < config.maxRetries else { return .reject(.maxRetries) }
        return admitRequest(counts)
    }
}

/// The counts ``CircuitBreakerLimits`` decides on, for one cluster as seen by one worker.
public struct CircuitBreakerCounts: Sendable, Equatable {
    public var connections: Int
    public var pendingRequests: Int
    public var activeRequests: Int
    public var activeRetries: Int

    public init(connections: Int = 0, pendingRequests: Int = 0, activeRequests: Int = 0, activeRetries: Int = 0) {
        self.connections = connections
        self.pendingRequests = pendingRequests
        self.activeRequests = activeRequests
        self.activeRetries = activeRetries
    }
}

/// Which circuit-breaker limit was hit; the raw value is the config/metrics name.
public enum CircuitBreakerLimit: String, Sendable, Equatable, CaseIterable {
    case maxConnections = "max_connections"
    case maxPendingRequests = "max_pending_requests"
    case maxRequests = "max_requests"
    case maxRetries = "max_retries"
}

/// The answer of ``CircuitBreakerLimits``.
public enum CircuitBreakerDecision: Sendable, Equatable {
    case allow
    case reject(CircuitBreakerLimit)

    public var isAllowed: Bool { self == .allow }
}
