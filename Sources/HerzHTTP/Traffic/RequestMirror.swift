import HerzCore
import NIOCore
import NIOHTTP1

/// One mirrored copy of a request (a route's `request_mirror_policies` entry), sent
/// fire-and-forget to the mirror cluster through the worker's ordinary upstream pools.
///
/// Guarantees (docs/traffic-features.md):
/// - the client's stream never waits for, buffers for, or hears about the mirror: the mirror only
///   *receives* the parts the client stream forwards, never sets a read gate, and its response is
///   read and dropped;
/// - memory is bounded: at most `max_body_bytes` are queued while the mirror connection is being
///   set up; once connected, a chunk that finds the mirror connection not writable (NIO's high
///   watermark reached: the mirror is slower than the client) abandons the mirror;
/// - every sampled mirror ends exactly once, counted as mirrored (non-5xx answer), failed
///   (connect failure, reset, timeout, 5xx) or skipped (Herz gave it up: body too large, mirror
///   too slow, client reset, cluster overloaded).
///
/// Keeps itself alive while in flight (the client's stream may end first). Owned by the worker's
/// event loop.
final class RequestMirror: UpstreamResponseDelegate {
    private let policy: RequestMirrorPolicy
    private let cluster: WorkerCluster
    private let metrics: TrafficMetrics
    private var head: HTTPRequestHead
    private var hasBody: Bool
    private var exchange: UpstreamExchange?
    private var waiter: (pool: EndpointPool, id: Int)?
    private var attempt: WorkerCluster.Attempt?
    private var pending: [HTTPClientRequestPart] = []
    private var bodyBytes = 0
    private var requestEnded = false
    private var responseStatus = 0
    private var responseKeepAlive = true
    private var timer: Scheduled<Void>?
    private var keepAlive: RequestMirror?
    private var done = false

    /// Starts the mirrors `route` asks for, given the request head as it goes upstream.
    static func start(for route: RouteEntry, head: HTTPRequestHead, endStream: Bool, worker: Worker,
                      snapshot: ConfigSnapshot, metrics: TrafficMetrics) -> [RequestMirror] {
        var started: [RequestMirror] = []
        for policy in route.mirrorPolicies where policy.percent.admits(worker.random.next()) {
            if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > policy.maxBodyBytes {
                metrics.mirrorSkipped(cluster: policy.cluster, reason: "body_too_large")
                continue
            }
            guard let cluster = worker.cluster(named: policy.cluster, in: snapshot) else {
                metrics.mirrorSkipped(cluster: policy.cluster, reason: "no_cluster")
                continue
            }
            var mirrored = head
            if let host = head.headers.first(name: "host"), !host.isEmpty {
                mirrored.headers.replaceOrAdd(name: "host", value: ShadowHost.make(host))
            }
            if cluster.shared.config.upstreamProtocol == .http1 { mirrored.version = .http1_1 }
            let mirror = RequestMirror(policy: policy, cluster: cluster, metrics: metrics, head: mirrored, hasBody: !endStream)
            guard mirror.connect(timeout: route.timeout ?? .seconds(15), eventLoop: worker.eventLoop) else { continue }
            if endStream { mirror.end(nil) }
            started.append(mirror)
        }
        return started
    }

    private init(policy: RequestMirrorPolicy, cluster: WorkerCluster, metrics: TrafficMetrics, head: HTTPRequestHead, hasBody: Bool) {
        self.policy = policy
        self.cluster = cluster
        self.metrics = metrics
        self.head = head
        self.hasBody = hasBody
    }

    /// Picks an endpoint and asks its pool for an exchange; false when the mirror ended at once.
    private func connect(timeout: TimeAmount, eventLoop: EventLoop) -> Bool {
        keepAlive = self
        let shared = cluster.shared
        guard let endpoint = cluster.pick(hashKey: nil, excluded: [], metadataMatch: [:]) else {
            finish(.failed("no_healthy_upstream"))
            return false
        }
        if shared.activeRequests.loadThenWrappingIncrement(ordering: .relaxed) >= shared.config.circuitBreakers.maxRequests {
            shared.activeRequests.wrappingDecrement(ordering: .relaxed)
            finish(.skipped("overflow"))
            return false
        }
        switch cluster.requestStarted(endpoint) {
        case .started(let started): attempt = started
        case .refusedByBreaker:
            shared.activeRequests.wrappingDecrement(ordering: .relaxed)
            finish(.skipped("circuit_open"))
            return false
        }
        timer = eventLoop.scheduleTask(in: timeout > .zero ? timeout : .seconds(15)) { [weak self] in
            self?.timer = nil
            self?.finish(.failed("timeout"), outcome: .timeout)
        }
        let pool = cluster.pool(for: endpoint)
        if let idle = pool.takeIdle() {
            connected(.success(idle))
        } else if let id = pool.acquire({ [weak self] result in
            guard let self else {
                if case .success(let exchange) = result { exchange.release(reusable: true) }
                return
            }
            self.waiter = nil
            self.connected(result)
        }) {
            waiter = (pool, id)
        }
        return !done
    }

    private func connected(_ result: Result<UpstreamExchange, UpstreamFailure>) {
        switch result {
        case .failure(let failure):
            if case .overflow = failure { finish(.skipped("overflow"), outcome: .cancelled) } else { finish(.failed("connect_failure"), outcome: .connectFailure) }
        case .success(let exchange):
            guard !done else { exchange.release(reusable: true); return }
            self.exchange = exchange
            exchange.attach(self)
            exchange.writeHead(head, hasBody: hasBody)
            for part in pending { exchange.write(part) }
            pending.removeAll()
            exchange.flush()
        }
    }

    // MARK: the client's request, as it is forwarded

    /// A body chunk the client stream forwarded.
    func body(_ data: ByteBuffer) {
        guard !done, data.readableBytes > 0 else { return }
        bodyBytes += data.readableBytes
        if bodyBytes > policy.maxBodyBytes { return finish(.skipped("body_too_large"), outcome: .cancelled) }
        send(.body(.byteBuffer(data)))
    }

    /// The end of the client's request (with its trailers, if any).
    func end(_ trailers: HTTPHeaders?) {
        guard !done, !requestEnded else { return }
        requestEnded = true
        send(.end(trailers))
    }

    /// The client's stream ended before its request did: an incomplete copy must not look complete.
    func clientStreamEnded() {
        guard !done, !requestEnded else { return }
        finish(.skipped("downstream_reset"), outcome: .cancelled)
    }

    private func send(_ part: HTTPClientRequestPart) {
        guard let exchange else {
            pending.append(part)  // bounded by max_body_bytes (checked before)
            return
        }
        guard exchange.isWritable else { return finish(.skipped("slow_mirror"), outcome: .cancelled) }
        exchange.write(part)
        exchange.flush()
    }

    // MARK: UpstreamResponseDelegate (the mirror's answer is read and dropped)

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            if head.status.code >= 200 {
                responseStatus = Int(head.status.code)
                responseKeepAlive = head.isKeepAlive
            }
        case .body:
            break
        case .end:
            let status = responseStatus
            finish(status >= 500 ? .failed("5xx") : .mirrored, outcome: .status(status), reusable: requestEnded && responseKeepAlive)
        }
    }

    func upstreamReadComplete() {}

    func upstreamFailed(_ failure: UpstreamFailure) {
        finish(.failed("reset"), outcome: .reset)
    }

    func upstreamWritabilityChanged(isWritable: Bool) {}

    // MARK: ending

    private enum Ending { case mirrored, failed(String), skipped(String) }

    private func finish(_ result: Ending, outcome: WorkerCluster.AttemptOutcome = .cancelled, reusable: Bool = false) {
        guard !done else { return }
        done = true
        timer?.cancel()
        timer = nil
        if let waiter {
            waiter.pool.cancelWaiter(waiter.id)
            self.waiter = nil
        }
        if let exchange {
            self.exchange = nil
            exchange.release(reusable: reusable)
        }
        pending.removeAll()
        if let attempt {
            self.attempt = nil
            cluster.requestFinished(attempt, outcome: outcome)
            cluster.shared.activeRequests.wrappingDecrement(ordering: .relaxed)
        }
        switch result {
        case .mirrored: metrics.mirrored(cluster: policy.cluster)
        case .failed(let reason): metrics.mirrorFailed(cluster: policy.cluster, reason: reason)
        case .skipped(let reason): metrics.mirrorSkipped(cluster: policy.cluster, reason: reason)
        }
        keepAlive = nil
    }
}
