/// The cluster layer's decisions for one `cluster "NAME" { weight: …  breaker: … }` block, as a pure
/// state machine: attempts and measurements in (time as an argument), verdicts, weights and
/// transitions out, with the counts `/flow/clusters` and `/metrics` show.
///
/// - Breaker: every upstream attempt to the cluster asks ``admit(now:)`` first; an admitted attempt
///   reports its outcome once with ``record(_:failure:now:)`` (or ``cancel(_:)`` when Herz dropped it).
///   Without `breaker:` everything is admitted and nothing is counted.
/// - Weights: ``updateWeights(_:)`` takes one ``EndpointReading`` per endpoint (measured over the
///   recent window) and recomputes the weights with ``FlowDynamicWeights``. Endpoints marked
///   `excluded` (ejected by health checks or outlier detection) keep the weight they had; they get
///   no traffic anyway (the balancers never pick an unavailable endpoint, whatever its weight) and
///   re-enter with that weight. Without `weight:` the weights stay empty (configured weights apply).
///
/// Owned by whoever serialises access (the kernel keeps one per cluster behind a lock).
public struct FlowClusterController: Sendable {
    /// A breaker state as metrics and logs name it.
    public enum Phase: String, Sendable, Equatable, CaseIterable {
        case closed, open, halfOpen = "half_open"
    }

    /// One breaker state change; when it opened from closed, with the window's counts that tripped it
    /// (for the log line).
    public struct BreakerEvent: Sendable, Equatable {
        public let from: Phase
        public let to: Phase
        public let requests: Int
        public let failures: Int
    }

    /// Whether an attempt may go to the cluster.
    public enum Admission: Sendable, Equatable {
        /// Go; give the permit back to ``record(_:failure:now:)`` or ``cancel(_:)`` (nil without a breaker).
        case allow(FlowCircuitBreaker.Permit?)
        /// The breaker is open (`retryAfterNanos` until it half-opens) or half-open with every probe
        /// slot taken (`retryAfterNanos` nil).
        case reject(phase: Phase, retryAfterNanos: UInt64?)
    }

    /// What the cluster layer measured for one endpoint over the recent window.
    public struct EndpointReading: Sendable, Equatable {
        public var endpoint: String
        /// p95 latency in nanoseconds; nil when no attempt with a measurable latency ended in the window.
        public var p95Nanos: UInt64?
        public var requests: Int
        public var failures: Int
        /// Ejected by health checks or outlier detection: its weight is held.
        public var excluded: Bool

        public init(endpoint: String, p95Nanos: UInt64?, requests: Int, failures: Int, excluded: Bool) {
            self.endpoint = endpoint
            self.p95Nanos = p95Nanos
            self.requests = requests
            self.failures = failures
            self.excluded = excluded
        }

        /// failures / requests, nil without requests.
        public var errorRate: Double? { requests > 0 ? Double(failures) / Double(requests) : nil }
    }

    public private(set) var cluster: FlowCluster
    public private(set) var state: FlowClusterState
    /// Current dynamic weight per endpoint (empty without `weight:`).
    public private(set) var weights: [String: Int] = [:]
    /// Endpoint weight changes since the controller was created (`herz_flow_weight_changes_total`).
    public private(set) var weightChanges = 0
    /// Breaker transitions by (from, to) since the controller was created.
    public private(set) var transitions: [Transition: Int] = [:]
    /// Attempts refused by the breaker.
    public private(set) var rejections = 0

    /// A (from, to) pair of ``transitions``.
    public struct Transition: Hashable, Sendable {
        public let from: Phase
        public let to: Phase

        public init(from: Phase, to: Phase) {
            self.from = from
            self.to = to
        }

        /// Every edge of the breaker's diagram (opened, half-opened, closed, reopened).
        public static let edges: [Transition] = [
            Transition(from: .closed, to: .open), Transition(from: .open, to: .halfOpen),
            Transition(from: .halfOpen, to: .closed), Transition(from: .halfOpen, to: .open),
        ]
    }

    public init(cluster: FlowCluster) {
        self.cluster = cluster
        self.state = FlowClusterState(cluster: cluster)
    }

    /// The breaker's phase now (closed without a breaker).
    public var phase: Phase {
        switch state.breaker?.state {
        case nil, .closed?: return .closed
        case .open?: return .open
        case .halfOpen?: return .halfOpen
        }
    }

    // MARK: breaker

    public mutating func admit(now: UInt64) -> (admission: Admission, event: BreakerEvent?) {
        guard var breaker = state.breaker else { return (.allow(nil), nil) }
        let before = phase
        let (verdict, transition) = breaker.admit(now: now)
        state.breaker = breaker
        let event = transition == nil ? nil : noteTransition(from: before, counts: (0, 0))
        switch verdict {
        case .allow(let permit):
            return (.allow(permit), event)
        case .reject(let retryAfter):
            rejections += 1
            return (.reject(phase: phase, retryAfterNanos: retryAfter), event)
        }
    }

    /// The outcome of an admitted attempt (5xx, connect failure, reset or timeout = failure).
    public mutating func record(_ permit: FlowCircuitBreaker.Permit?, failure: Bool, now: UInt64) -> BreakerEvent? {
        guard let permit, var breaker = state.breaker else { return nil }
        let before = phase
        // The window as this outcome leaves it (a transition resets it).
        var counts = breaker.windowCounts(now: now)
        if before == .closed, permit.generation == breaker.generation {
            counts = (counts.requests + 1, counts.failures + (failure ? 1 : 0))
        }
        let transition = breaker.record(permit, failure: failure, now: now)
        state.breaker = breaker
        return transition == nil ? nil : noteTransition(from: before, counts: counts)
    }

    /// An admitted attempt that ended without an outcome (Herz cancelled it).
    public mutating func cancel(_ permit: FlowCircuitBreaker.Permit?) {
        guard let permit else { return }
        state.breaker?.cancel(permit)
    }

    /// Moves open → half-open when `open_for` is over, without waiting for the next attempt.
    public mutating func refresh(now: UInt64) -> BreakerEvent? {
        guard var breaker = state.breaker else { return nil }
        let before = phase
        let transition = breaker.refresh(now: now)
        state.breaker = breaker
        return transition == nil ? nil : noteTransition(from: before, counts: (0, 0))
    }

    /// Requests and failures in the breaker's window (zero without a breaker or outside closed).
    public func breakerCounts(now: UInt64) -> (requests: Int, failures: Int) {
        state.breaker?.windowCounts(now: now) ?? (0, 0)
    }

    /// `counts`: the closed window's requests and failures when it opened (zero otherwise).
    private mutating func noteTransition(from before: Phase, counts: (requests: Int, failures: Int)) -> BreakerEvent {
        transitions[Transition(from: before, to: phase), default: 0] += 1
        return BreakerEvent(from: before, to: phase, requests: counts.requests, failures: counts.failures)
    }

    // MARK: weights

    /// Recomputes the weights from one reading per endpoint (endpoints not listed are forgotten).
    /// Returns the endpoints whose weight changed (each counts once in ``weightChanges``).
    @discardableResult
    public mutating func updateWeights(_ readings: [EndpointReading]) -> [String] {
        guard var dynamic = state.weights else { return [] }
        let samples = readings.map { reading -> FlowDynamicWeights.Sample in
            switch dynamic.policy.signal {
            case .latencyP95: return .init(endpoint: reading.endpoint, value: reading.p95Nanos.map { Double($0) })
            case .errorRate: return .init(endpoint: reading.endpoint, value: reading.errorRate)
            }
        }
        let held = Set(readings.filter(\.excluded).map(\.endpoint))
        let base = dynamic.policy.base
        let next = dynamic.update(samples, holding: held)
        state.weights = dynamic
        // An endpoint seen for the first time had the base weight.
        let changed = next.keys.filter { next[$0] != (weights[$0] ?? base) }.sorted()
        weightChanges += changed.count
        weights = next
        return changed
    }

    // MARK: reload

    /// The controller for `cluster`'s new policies: breaker and weights carried over as
    /// ``FlowClusterState/carriedOver(to:)`` decides; counters kept.
    public func reconfigured(to cluster: FlowCluster) -> (controller: FlowClusterController, notes: FlowClusterState.Notes) {
        var next = self
        let (state, notes) = self.state.carriedOver(to: cluster)
        next.cluster = cluster
        next.state = state
        if state.weights == nil {
            next.weights = [:]
        } else if let weights = state.weights, weights.policy.signal != self.state.weights?.policy.signal {
            next.weights = next.weights.mapValues { _ in weights.policy.base }
        }
        return (next, notes)
    }
}
