import HerzCoproc
import NIOCore
import Prometheus

/// One worker's coprocessor metric handles (calls by outcome, call latency, failures by reason,
/// late answers, calls parked on a full ring), cached so the registry lock is taken once per label
/// set. Event-loop owned.
final class CoprocMetrics {
    private let shared: MetricsRegistry
    private struct Key: Hashable { let coprocessor, label: String }
    private var calls: [Key: Counter] = [:]
    private var failures: [Key: Counter] = [:]
    private var perCoprocessor: [Key: Counter] = [:]
    private var latency: [String: DurationHistogram] = [:]

    static let buckets: [Duration] = [
        .microseconds(5), .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100),
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(25),
        .milliseconds(100), .milliseconds(500), .seconds(1),
    ]

    init(shared: MetricsRegistry) { self.shared = shared }

    func call(coprocessor: String, outcome: String, since start: NIODeadline) {
        counter(&calls, Key(coprocessor: coprocessor, label: outcome), name: "herz_coproc_calls_total",
                help: "Coprocessor calls by outcome (answered, fail_open, fail_closed)", labelName: "outcome").increment()
        let histogram: DurationHistogram
        if let existing = latency[coprocessor] { histogram = existing } else {
            histogram = shared.registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(metricName: "herz_coproc_call_duration", unitName: "seconds",
                                                 helpText: "Time from dispatch to the call's outcome"),
                labels: [("coprocessor", coprocessor)], buckets: Self.buckets)
            latency[coprocessor] = histogram
        }
        histogram.recordNanoseconds((NIODeadline.now() - start).nanoseconds)
    }

    func failure(coprocessor: String, reason: CoprocFailureReason) {
        counter(&failures, Key(coprocessor: coprocessor, label: reason.rawValue), name: "herz_coproc_failures_total",
                help: "Coprocessor calls that got the failure policy, by reason", labelName: "reason").increment()
    }

    func lateAnswer(coprocessor: String) {
        plainCounter("herz_coproc_late_answers_total", "Answers that arrived after the kernel gave up on the call", coprocessor).increment()
    }

    func ringFull(coprocessor: String) {
        plainCounter("herz_coproc_ring_full_total", "Calls parked because the calls ring was full (resumed when space frees)",
                     coprocessor).increment()
    }

    private func plainCounter(_ name: String, _ help: String, _ coprocessor: String) -> Counter {
        let key = Key(coprocessor: coprocessor, label: name)
        if let existing = perCoprocessor[key] { return existing }
        let counter = shared.registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
                                                  labels: [("coprocessor", coprocessor)])
        perCoprocessor[key] = counter
        return counter
    }

    private func counter(_ cache: inout [Key: Counter], _ key: Key, name: String, help: String, labelName: String) -> Counter {
        if let existing = cache[key] { return existing }
        let counter = shared.registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
            labels: [("coprocessor", key.coprocessor), (labelName, key.label)])
        cache[key] = counter
        return counter
    }
}
