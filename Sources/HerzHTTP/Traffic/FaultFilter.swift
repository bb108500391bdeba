import HerzCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The `fault` filter of one stream: asks ``FaultDecider`` what to inject, then delays the request
/// on a timer of the stream's event loop (the head waits in the filter manager, `stopIteration`,
/// and resumes with `continueDecoding()`), aborts it with a local reply, or both (delay first).
///
/// A fault counts as active from its decision until its stream ends, whatever ends it; the count
/// is what `max_active_faults` limits. Owned by the stream's event loop.
final class FaultFilter: HTTPFilter {
    private let config: FaultFilterConfig
    private let shared: FaultFilterFactory.Shared
    private let route: String
    private var random: SplitMix64
    private var callbacks: FilterCallbacks?
    private var timer: Scheduled<Void>?
    private var pendingAbort: FaultFilterConfig.Abort.Kind?
    private var active = false

    init(config: FaultFilterConfig, shared: FaultFilterFactory.Shared, streamInfo: StreamInfo) {
        self.config = config
        self.shared = shared
        self.route = streamInfo.route?.name ?? "none"
        // One SplitMix64 step per stream id: independent draws without a syscall or a lock.
        self.random = SplitMix64(seed: shared.seed &+ streamInfo.streamID &* 0x9E37_79B9_7F4A_7C15)
    }

    func decodeHeaders(_ head: inout HTTPRequestHead, endStream: Bool, callbacks: FilterCallbacks) -> FilterHeadersStatus {
        let decision = FaultDecider.decide(config, headers: head.headers, activeFaults: shared.active.current, random: &random)
        guard decision.injectsFault, shared.active.tryEnter(limit: config.maxActiveFaults) else {
            // Full when decided, or filled by another worker between the decision and here.
            if decision.skippedMaxActive || decision.injectsFault { shared.metrics.faultSkipped(route: route) }
            return .continue
        }
        active = true
        self.callbacks = callbacks
        if let delay = decision.delay, delay > .zero, let loop = MultiThreadedEventLoopGroup.currentEventLoop {
            shared.metrics.faultDelayed(route: route)
            pendingAbort = decision.abort
            let bound = NIOLoopBound(self, eventLoop: loop)
            timer = loop.scheduleTask(in: delay) { bound.value.delayElapsed() }
            return .stopIteration
        }
        if let abort = decision.abort {
            self.abort(abort)
            return .stopIteration
        }
        return .continue
    }

    private func delayElapsed() {
        timer = nil
        if let pendingAbort { abort(pendingAbort) } else { callbacks?.continueDecoding() }
    }

    private func abort(_ kind: FaultFilterConfig.Abort.Kind) {
        shared.metrics.faultAborted(route: route)
        var headers = HTTPHeaders()
        headers.add(name: "x-herz-fault", value: "abort")
        switch kind {
        case .http(let status):
            callbacks?.sendLocalReply(status: HTTPResponseStatus(statusCode: status), body: "fault filter abort\n", headers: headers)
        case .grpc(let status):
            // A gRPC "trailers-only" answer: HTTP 200, every field in the one header block.
            headers.add(name: "content-type", value: "application/grpc")
            headers.add(name: "grpc-status", value: String(status))
            headers.add(name: "grpc-message", value: "fault filter abort")
            callbacks?.sendLocalReply(status: .ok, body: "", headers: headers)
        }
    }

    func onStreamComplete() {
        timer?.cancel()
        timer = nil
        callbacks = nil
        if active { shared.active.leave() }
        active = false
    }
}

/// Builds a ``FaultFilter`` per stream for one configured `fault` filter. A route's
/// `per_filter_config: { fault: {...} }` replaces the listener's config for that route (its
/// `disabled: true` turns faults off there); all of them share one active-fault count per config
/// generation and listener.
struct FaultFilterFactory: HTTPFilterFactory {
    /// What every stream of this factory shares (any worker).
    final class Shared: Sendable {
        let active = FaultActiveCount()
        let metrics: TrafficMetrics
        let seed = UInt64.random(in: 0 ... .max)
        init(metrics: TrafficMetrics) { self.metrics = metrics }
    }

    let config: FaultFilterConfig
    let shared: Shared
    var filterType: String { "fault" }

    func makeFilter(streamInfo: StreamInfo) -> HTTPFilter {
        var config = self.config
        if case .fault(let override)? = streamInfo.route?.perFilterConfig["fault"] { config = override }
        return config.disabled ? PassThroughFilter() : FaultFilter(config: config, shared: shared, streamInfo: streamInfo)
    }
}

extension FilterFactoryRegistry {
    /// Registers `fault`: its filters inject delays and aborts, counted in `metrics`.
    public mutating func registerFault(metrics: TrafficMetrics) {
        register(type: "fault") { config in
            guard case .fault(let fault) = config else { return nil }
            return FaultFilterFactory(config: fault, shared: FaultFilterFactory.Shared(metrics: metrics))
        }
    }
}
