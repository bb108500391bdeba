import NIOCore

/// Passive health: ejects endpoints that fail real requests in a row (Envoy's `consecutive_5xx`).
///
/// Pure state machine, one per cluster per worker, owned by that worker's event loop (not
/// thread-safe). The router reports every attempt's outcome with ``recordResponse(endpoint:outcome:now:)``;
/// the I/O layer arms one timer at ``nextUnejectDeadline`` and calls ``unejectDue(now:)`` when it
/// fires. Time is always passed in; nothing here reads a clock.
///
/// Rules:
/// - A failure is a 5xx response or a locally generated gateway failure (connect failure, reset,
///   timeout), as in Envoy when local-origin errors are not split. Any other response is a success
///   and resets the endpoint's streak.
/// - `consecutive5xx` failures in a row → eject for `baseEjectionTime × n`, where `n` counts this
///   endpoint's ejections, capped at `max(maxEjectionTime, baseEjectionTime)`. `n` decays: every
///   `multiplierDecayInterval` an endpoint spends un-ejected takes one off (Envoy decrements it once
///   per detection interval, default 10 s).
/// - `max_ejection_percent`: an ejection happens only if the ejected count after it stays within
///   the percentage of the cluster's endpoints — except that, as in Envoy (≥ 1.24), one endpoint may
///   always be ejected when none is and the cluster has more than one endpoint (unless the percentage
///   is 0, which disables ejection). Otherwise the result is ``OutlierAction/ejectionSkipped(endpoint:)``
///   (Envoy's `ejections_overflow`).
/// - Reaching the threshold resets the streak (ejected or skipped), so a still-failing endpoint is
///   tried again after another `consecutive5xx` failures. Outcomes reported for an endpoint that is
///   ejected (in-flight requests finishing) are ignored.
public struct OutlierDetector: Sendable {
    public let config: OutlierDetectionConfig
    public let multiplierDecayInterval: TimeAmount
    private var consecutiveFailures: [Int]
    private var timesEjected: [Int]
    private var ejectedUntil: [NIODeadline?]
    private var lastUnejected: [NIODeadline?]
    public private(set) var ejectedCount = 0

    public init(config: OutlierDetectionConfig, endpointCount: Int,
                multiplierDecayInterval: TimeAmount = .seconds(10)) {
        self.config = config
        self.multiplierDecayInterval = multiplierDecayInterval
        consecutiveFailures = [Int](repeating: 0, count: endpointCount)
        timesEjected = [Int](repeating: 0, count: endpointCount)
        ejectedUntil = [NIODeadline?](repeating: nil, count: endpointCount)
        lastUnejected = [NIODeadline?](repeating: nil, count: endpointCount)
    }

    public var endpointCount: Int { consecutiveFailures.count }

    public func isEjected(_ endpoint: Int) -> Bool { ejectedUntil[endpoint] != nil }

    /// How many times `endpoint` counts as ejected for the backoff multiplier (before decay).
    public func ejectionCount(_ endpoint: Int) -> Int { timesEjected[endpoint] }

    /// The earliest time an ejected endpoint is due back; nil when none is ejected.
    public var nextUnejectDeadline: NIODeadline? {
        ejectedUntil.reduce(nil) { soonest, until in
            guard let until else { return soonest }
            guard let soonest else { return until }
            return min(soonest, until)
        }
    }

    /// Records one attempt's outcome at `endpoint`; returns an ejection decision when the endpoint
    /// has just reached the failure threshold.
    public mutating func recordResponse(endpoint: Int, outcome: UpstreamOutcome, now: NIODeadline) -> OutlierAction? {
        guard ejectedUntil[endpoint] == nil else { return nil }
        guard outcome.isFailure else {
            consecutiveFailures[endpoint] = 0
            return nil
        }
        consecutiveFailures[endpoint] += 1
        guard consecutiveFailures[endpoint] >= max(config.consecutive5xx, 1) else { return nil }
        consecutiveFailures[endpoint] = 0
        guard mayEjectOneMore() else { return .ejectionSkipped(endpoint: endpoint) }

        decayMultiplier(endpoint, now: now)
        timesEjected[endpoint] += 1
        let base = config.baseEjectionTime.nanoseconds
        let cap = max(config.maxEjectionTime.nanoseconds, base)
        let (product, overflow) = base.multipliedReportingOverflow(by: Int64(timesEjected[endpoint]))
        let duration = TimeAmount.nanoseconds(overflow ? cap : min(product, cap))
        let until = now + duration
        ejectedUntil[endpoint] = until
        ejectedCount += 1
        return .eject(endpoint: endpoint, until: until)
    }

    /// Convenience: an HTTP response with `status`.
    public mutating func recordResponse(endpoint: Int, status: Int, now: NIODeadline) -> OutlierAction? {
        recordResponse(endpoint: endpoint, outcome: .status(status), now: now)
    }

    /// Returns the endpoints whose ejection has expired at `now` (ascending) and returns them to
    /// service, with a fresh failure streak.
    public mutating func unejectDue(now: NIODeadline) -> [Int] {
        var due: [Int] = []
        for endpoint in ejectedUntil.indices {
            guard let until = ejectedUntil[endpoint], until <= now else { continue }
            ejectedUntil[endpoint] = nil
            lastUnejected[endpoint] = now
            consecutiveFailures[endpoint] = 0
            ejectedCount -= 1
            due.append(endpoint)
        }
        return due
    }

    private func mayEjectOneMore() -> Bool {
        let percent = min(max(config.maxEjectionPercent, 0), 100)
        guard percent > 0 else { return false }
        if ejectedCount == 0, endpointCount > 1 { return true }
        return (ejectedCount + 1) * 100 <= percent * endpointCount
    }

    private mutating func decayMultiplier(_ endpoint: Int, now: NIODeadline) {
        guard let since = lastUnejected[endpoint], timesEjected[endpoint] > 0 else { return }
        let interval = multiplierDecayInterval.nanoseconds
        guard interval > 0 else { return }
        let elapsed = (now - since).nanoseconds
        let steps = Int(max(elapsed, 0) / interval)
        timesEjected[endpoint] = max(timesEjected[endpoint] - steps, 0)
    }
}

/// How one upstream attempt ended, as the router reports it to the ``OutlierDetector``.
public enum UpstreamOutcome: Sendable, Equatable {
    /// A response arrived with this status.
    case status(Int)
    /// No connection could be established.
    case connectFailure
    /// The connection or stream was reset before a complete response.
    case reset
    /// No response within the (per-try) timeout.
    case timeout

    /// 5xx, or a local gateway failure (which the router turns into a 502/503/504 anyway).
    public var isFailure: Bool {
        switch self {
        case .status(let status): return (500...599).contains(status)
        case .connectFailure, .reset, .timeout: return true
        }
    }
}

/// A decision of the ``OutlierDetector`` for the I/O layer and metrics.
public enum OutlierAction: Sendable, Equatable {
    /// Take `endpoint` out of load balancing until `until` (arm the uneject timer).
    case eject(endpoint: Int, until: NIODeadline)
    /// `endpoint` reached the threshold but `max_ejection_percent` forbids ejecting it now.
    case ejectionSkipped(endpoint: Int)
}
