import NIOCore
import NIOHTTP1
import Synchronization

/// What the `fault` filter does to one request: wait `delay` (if any), then answer with `abort`
/// (if any) instead of forwarding. `skippedMaxActive` = a fault was due but `max_active_faults`
/// was reached, so none was injected.
public struct FaultDecision: Sendable, Equatable {
    public var delay: TimeAmount?
    public var abort: FaultFilterConfig.Abort.Kind?
    public var skippedMaxActive: Bool

    public init(delay: TimeAmount? = nil, abort: FaultFilterConfig.Abort.Kind? = nil, skippedMaxActive: Bool = false) {
        self.delay = delay; self.abort = abort; self.skippedMaxActive = skippedMaxActive
    }
    public var injectsFault: Bool { delay != nil || abort != nil }
}

/// The request headers that drive faults when the filter has `headers_enabled: true` (Envoy's
/// `x-envoy-fault-*` under Herz's prefix).
public enum FaultHeader {
    /// Delay in whole milliseconds.
    public static let delay = "x-herz-fault-delay-request"
    /// HTTP status 200...599 to answer with.
    public static let abort = "x-herz-fault-abort-request"
    /// gRPC status 0...16 to answer with.
    public static let abortGRPC = "x-herz-fault-abort-grpc-request"
    /// Share (0...100, decimals allowed) of requests carrying the delay header that are delayed.
    public static let delayPercentage = "x-herz-fault-delay-request-percentage"
    /// Share (0...100) of requests carrying an abort header that are aborted.
    public static let abortPercentage = "x-herz-fault-abort-request-percentage"
}

/// The `fault` filter's decision, a pure function of the config, the request headers, the number
/// of faults in force and a random source (injectable: tests use a seeded one).
///
/// Rules (docs/traffic-features.md):
/// - two independent draws per request, one for the delay and one for the abort; a request may get
///   both (delayed, then aborted);
/// - with `headers_enabled`, a valid `x-herz-fault-*` header replaces the configured delay or abort
///   for that request; its share is the matching `…-percentage` header, else 100%. Invalid header
///   values are ignored (the configured fault, if any, applies);
/// - when a fault is due and `activeFaults >= max_active_faults`, nothing is injected and the
///   decision says `skippedMaxActive`.
public enum FaultDecider {
    public static func decide<R: RandomNumberGenerator>(_ config: FaultFilterConfig, headers: HTTPHeaders,
                                                        activeFaults: Int, random: inout R) -> FaultDecision {
        let delayDraw = random.next()
        let abortDraw = random.next()
        guard !config.disabled else { return FaultDecision() }
        var decision = FaultDecision()

        var delay = config.delay
        var abort = config.abort
        if config.headersEnabled {
            if let ms = headers.first(name: FaultHeader.delay).flatMap({ Int($0.trimmingASCIISpaces()) }), ms >= 0 {
                delay = .init(fixed: .milliseconds(Int64(min(ms, 3_600_000))),
                              percent: headerPercentage(headers, FaultHeader.delayPercentage))
            }
            if let status = headers.first(name: FaultHeader.abort).flatMap({ Int($0.trimmingASCIISpaces()) }), (200...599).contains(status) {
                abort = .init(kind: .http(status), percent: headerPercentage(headers, FaultHeader.abortPercentage))
            } else if let status = headers.first(name: FaultHeader.abortGRPC).flatMap({ Int($0.trimmingASCIISpaces()) }), (0...16).contains(status) {
                abort = .init(kind: .grpc(status), percent: headerPercentage(headers, FaultHeader.abortPercentage))
            }
        }
        if let delay, delay.percent.admits(delayDraw) { decision.delay = delay.fixed }
        if let abort, abort.percent.admits(abortDraw) { decision.abort = abort.kind }
        if decision.injectsFault, let max = config.maxActiveFaults, activeFaults >= max {
            return FaultDecision(skippedMaxActive: true)
        }
        return decision
    }

    private static func headerPercentage(_ headers: HTTPHeaders, _ name: String) -> Percentage {
        guard let text = headers.first(name: name), let value = Double(text.trimmingASCIISpaces()), value.isFinite else { return .all }
        return Percentage(percent: value)
    }
}

/// The number of faults in force for one `fault` filter config, shared by every worker: a fault
/// enters before it is injected and leaves when its stream ends.
public final class FaultActiveCount: Sendable {
    private let count = Atomic<Int>(0)
    public init() {}
    public var current: Int { count.load(ordering: .relaxed) }
    public func enter() { count.add(1, ordering: .relaxed) }
    /// Enters unless `limit` faults are already in force (exact across threads: a CAS loop, so two
    /// workers deciding at once cannot both take the last place).
    public func tryEnter(limit: Int?) -> Bool {
        guard let limit else { enter(); return true }
        var seen = count.load(ordering: .relaxed)
        while seen < limit {
            let (exchanged, original) = count.compareExchange(expected: seen, desired: seen + 1, ordering: .relaxed)
            if exchanged { return true }
            seen = original
        }
        return false
    }
    public func leave() { count.subtract(1, ordering: .relaxed) }
}
