/// Active health state of one endpoint, driven by the results of its health checks.
///
/// Pure state machine (events in, transitions out): the I/O layer sends the probes on its own timer
/// (`interval`, `timeout` from ``HealthCheckConfig``) and reports each result here; it owns one
/// instance per endpoint, on one event loop. No clock, no I/O inside.
///
/// States and rules (Herz's decision, following Envoy's startup behaviour):
/// - ``State/unknown`` at start: no check has completed yet. It does **not** count as healthy
///   (``EndpointAvailability`` treats it as unavailable; if every endpoint is still unknown, panic
///   mode serves them all, so a cold start is not a 503 storm). Clusters *without* health checks
///   never build this machine: their endpoints are healthy until proven otherwise.
/// - From unknown, the first result decides at once: a pass → healthy, a failure → unhealthy
///   (Envoy: "during startup only a single successful health check is required").
/// - Healthy → unhealthy after `unhealthyThreshold` consecutive failures; unhealthy → healthy after
///   `healthyThreshold` consecutive passes. An opposite result resets the streak.
/// - A timeout, connection failure or reset is a failure (``checkFailed()``); a response is judged by
///   ``isHealthy(status:expected:)``.
/// Thresholds below 1 count as 1.
public struct HealthCheckStateMachine: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case unknown
        case healthy
        case unhealthy
    }

    public private(set) var state: State = .unknown
    public let healthyThreshold: Int
    public let unhealthyThreshold: Int
    public let expectedStatuses: [ClosedRange<Int>]
    private var consecutiveSuccesses = 0
    private var consecutiveFailures = 0

    public init(healthyThreshold: Int, unhealthyThreshold: Int, expectedStatuses: [ClosedRange<Int>] = [200...299]) {
        self.healthyThreshold = max(healthyThreshold, 1)
        self.unhealthyThreshold = max(unhealthyThreshold, 1)
        self.expectedStatuses = expectedStatuses
    }

    public init(config: HealthCheckConfig) {
        self.init(healthyThreshold: config.healthyThreshold, unhealthyThreshold: config.unhealthyThreshold,
                  expectedStatuses: config.expectedStatuses)
    }

    /// Whether the endpoint may take traffic as far as active checks are concerned.
    public var isHealthy: Bool { state == .healthy }

    /// A check passed.
    public mutating func checkSucceeded() -> HealthTransition? {
        consecutiveFailures = 0
        consecutiveSuccesses += 1
        switch state {
        case .healthy:
            return nil
        case .unknown:
            state = .healthy
            return .becameHealthy
        case .unhealthy:
            guard consecutiveSuccesses >= healthyThreshold else { return nil }
            state = .healthy
            return .becameHealthy
        }
    }

    /// A check failed: unexpected status, timeout, connection failure or reset.
    public mutating func checkFailed() -> HealthTransition? {
        consecutiveSuccesses = 0
        consecutiveFailures += 1
        switch state {
        case .unhealthy:
            return nil
        case .unknown:
            state = .unhealthy
            return .becameUnhealthy
        case .healthy:
            guard consecutiveFailures >= unhealthyThreshold else { return nil }
            state = .unhealthy
            return .becameUnhealthy
        }
    }

    /// A check got an HTTP response with `status`: a pass if it is expected, a failure otherwise.
    public mutating func checkCompleted(status: Int) -> HealthTransition? {
        HerzCore.isHealthy(status: status, expected: expectedStatuses) ? checkSucceeded() : checkFailed()
    }
}

/// A change of an endpoint's health, returned by ``HealthCheckStateMachine`` only when the state
/// actually changes (for ``EndpointAvailability``, metrics and logs).
public enum HealthTransition: Sendable, Equatable {
    case becameHealthy
    case becameUnhealthy
}

/// Whether a health-check response status counts as a pass: it lies in one of `expected`
/// (an empty list means the default `200...299`). Pure.
public func isHealthy(status: Int, expected: [ClosedRange<Int>]) -> Bool {
    if expected.isEmpty { return (200...299).contains(status) }
    return expected.contains { $0.contains(status) }
}
