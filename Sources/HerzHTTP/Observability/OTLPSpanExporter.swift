import Atomics
import HerzCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Batches finished spans from every worker and POSTs them to an OTLP/HTTP receiver
/// (`application/x-protobuf`, ``OTLPTraceEncoder``), one export in flight at a time.
///
/// Guarantees: ``submit(_:)`` never blocks and never waits for the network (a lock around an
/// array append); the queue holds at most `max_queue_spans` spans and drops (and counts) what does
/// not fit, so a slow or down collector costs requests nothing. Exports run on the kernel's admin
/// event loop, never on a worker's. `configure(_:)` swaps the config at runtime (reload).
///
/// Why not swift-otel's exporter: see docs/tracing.md ("Why a small exporter") — it brings gRPC,
/// swift-protobuf and async-http-client into every cold CI build; this is ~150 lines over NIO,
/// which the kernel already links.
public final class OTLPSpanExporter: @unchecked Sendable {
    private let eventLoop: EventLoop
    private let logger: Logger
    private let lock = NIOLock()
    private var config: TracingConfig?
    private var queue: [SpanRecord] = []
    private var exporting = false
    private var timer: RepeatedTask?
    /// Spans sent and acknowledged (2xx), dropped on a full queue, and lost in failed exports.
    public let exported = ManagedAtomic<Int>(0)
    public let dropped = ManagedAtomic<Int>(0)
    public let failed = ManagedAtomic<Int>(0)

    public init(eventLoop: EventLoop, logger: Logger) {
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Installs a new `tracing:` config (nil: off; queued spans are discarded).
    public func configure(_ new: TracingConfig?) {
        lock.withLock {
            guard new != config else { return }
            config = new
            timer?.cancel()
            timer = nil
            if new == nil { queue.removeAll() }
            guard let new else { return }
            timer = eventLoop.scheduleRepeatedTask(initialDelay: new.exportInterval, delay: new.exportInterval) { [weak self] _ in
                self?.exportNext(force: true)
            }
        }
    }

    /// Queues a finished request's spans (any thread). Drops them all when they do not fit.
    public func submit(_ spans: [SpanRecord]) {
        let batchReady: Bool = lock.withLock {
            guard let config else { return false }
            guard queue.count + spans.count <= config.maxQueueSpans else {
                dropped.wrappingIncrement(by: spans.count, ordering: .relaxed)
                return false
            }
            queue += spans
            return !exporting && queue.count >= config.maxBatchSpans
        }
        if batchReady { eventLoop.execute { self.exportNext(force: false) } }
    }

    /// Spans waiting for export.
    public var queuedCount: Int { lock.withLock { queue.count } }

    /// Sends one batch if none is in flight (`force`: even a partial one, on the timer).
    private func exportNext(force: Bool) {
        let job: (TracingConfig, [SpanRecord])? = lock.withLock {
            guard let config, !exporting, !queue.isEmpty, force || queue.count >= config.maxBatchSpans else { return nil }
            let count = min(queue.count, config.maxBatchSpans)
            let batch = Array(queue.prefix(count))
            queue.removeFirst(count)
            exporting = true
            return (config, batch)
        }
        guard let job else { return }
        let (settings, batch) = job
        let body = OTLPTraceEncoder.encode(batch, serviceName: settings.serviceName)
        post(body, config: settings).whenComplete { result in
            switch result {
            case .success(let status) where (200..<300).contains(status):
                self.exported.wrappingIncrement(by: batch.count, ordering: .relaxed)
            case .success(let status):
                self.failed.wrappingIncrement(by: batch.count, ordering: .relaxed)
                self.logger.warning("OTLP export rejected", metadata: ["status": "\(status)", "spans": "\(batch.count)"])
            case .failure(let error):
                self.failed.wrappingIncrement(by: batch.count, ordering: .relaxed)
                self.logger.debug("OTLP export failed", metadata: ["error": "\(error)", "spans": "\(batch.count)"])
            }
            self.lock.withLock { self.exporting = false }
            self.exportNext(force: false)
        }
    }

    /// One `POST` on a fresh connection, bounded by `export_timeout` end to end.
    private func post(_ body: [UInt8], config: TracingConfig) -> EventLoopFuture<Int> {
        let promise = eventLoop.makePromise(of: Int.self)
        let timeout = eventLoop.scheduleTask(in: config.exportTimeout) {
            promise.fail(ChannelError.connectTimeout(config.exportTimeout))
        }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        HealthProbeHandler.bootstrap(on: eventLoop, connectTimeout: config.exportTimeout, promise: promise)
            .connect(host: config.endpoint.host, port: config.endpoint.port)
            .whenComplete { result in
                switch result {
                case .failure(let error): promise.fail(error)
                case .success(let channel):
                    var headers = HTTPHeaders()
                    headers.add(name: "host", value: config.endpoint.description)
                    headers.add(name: "content-type", value: "application/x-protobuf")
                    headers.add(name: "content-length", value: String(body.count))
                    headers.add(name: "connection", value: "close")
                    let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: config.path, headers: headers)
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                }
            }
        return promise.futureResult
    }
}
