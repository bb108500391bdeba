import NIOCore

/// `tracing:`: where spans go (OTLP/HTTP), how many requests are sampled, and the exporter's bounds.
///
/// The queue is bounded (`max_queue_spans`): when the collector is slow or down, spans beyond it
/// are dropped and counted, never waited for.
public struct TracingConfig: Sendable, Equatable {
    /// `http://HOST:PORT/PATH` of an OTLP/HTTP receiver (path default `/v1/traces`).
    public var endpoint: HostPort
    public var path: String
    /// Fraction of new traces sampled (0...1); a sampled incoming parent is always followed.
    public var samplingRatio: Double
    /// OTLP resource attribute `service.name`.
    public var serviceName: String
    /// Spans waiting for export, all workers together; more are dropped.
    public var maxQueueSpans: Int
    /// Spans per export request.
    public var maxBatchSpans: Int
    /// How often queued spans are exported (sooner when a batch is full).
    public var exportInterval: TimeAmount
    /// One export request's whole deadline (connect + send + answer).
    public var exportTimeout: TimeAmount

    public init(endpoint: HostPort, path: String = "/v1/traces", samplingRatio: Double = 1, serviceName: String = "herz",
                maxQueueSpans: Int = 4096, maxBatchSpans: Int = 512, exportInterval: TimeAmount = .seconds(1),
                exportTimeout: TimeAmount = .seconds(2)) {
        self.endpoint = endpoint; self.path = path; self.samplingRatio = samplingRatio; self.serviceName = serviceName
        self.maxQueueSpans = maxQueueSpans; self.maxBatchSpans = maxBatchSpans
        self.exportInterval = exportInterval; self.exportTimeout = exportTimeout
    }
}
