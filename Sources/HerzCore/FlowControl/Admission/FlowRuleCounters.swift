import Synchronization

/// What one rule decided, for `/flow` and `herz_flow_requests_total{rule, decision}`. Each request
/// counts once per matching rule, under the decision that rule made for it:
/// - `allowed`: every limit of the rule admitted it at once;
/// - `delayed`: the rule (`on_limit: delay`) held it, then let it through;
/// - `limited`: the rule refused it (a local reply);
/// - `shadowed`: the rule (`on_limit: shadow`) would have refused it and let it through.
/// A request refused by another rule does not count as allowed by the rules it passed.
///
/// Relaxed atomics: incremented from any worker without a lock, read at scrape time.
public final class FlowRuleCounters: Sendable {
    public enum Decision: String, Sendable, CaseIterable {
        case allowed, delayed, limited, shadowed
    }

    private let allowed = Atomic<Int>(0)
    private let delayed = Atomic<Int>(0)
    private let limited = Atomic<Int>(0)
    private let shadowed = Atomic<Int>(0)

    public init() {}

    public func record(_ decision: Decision) {
        switch decision {
        case .allowed: allowed.add(1, ordering: .relaxed)
        case .delayed: delayed.add(1, ordering: .relaxed)
        case .limited: limited.add(1, ordering: .relaxed)
        case .shadowed: shadowed.add(1, ordering: .relaxed)
        }
    }

    public func count(_ decision: Decision) -> Int {
        switch decision {
        case .allowed: return allowed.load(ordering: .relaxed)
        case .delayed: return delayed.load(ordering: .relaxed)
        case .limited: return limited.load(ordering: .relaxed)
        case .shadowed: return shadowed.load(ordering: .relaxed)
        }
    }
}
