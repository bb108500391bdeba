import CZeroMQ

/// An owned libzmq context. Thread-safe (libzmq contexts are); terminated when the last socket
/// holding it and every other reference are gone. Most code uses `ZMQContext.shared`.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public static let shared = ZMQContext()

    public init() {
        guard let handle = zmq_ctx_new() else { fatalError("zmq_ctx_new failed: out of memory") }
        self.handle = handle
    }

    deinit { zmq_ctx_term(handle) }
}
