import CZeroMQ
import Glibc

/// A small owned ZeroMQ socket for the control path (docs/coprocessor-protocol.md section 5):
/// DEALER (kernel) or ROUTER (coprocessor), single-frame messages, linger 0, non-blocking receive.
///
/// Guarantees: closed exactly once (on `close()` or deinit), never blocks on close (linger 0), and
/// sends never block (a message that cannot be queued now throws `EAGAIN`). Not thread-safe, by
/// design (neither are ZeroMQ sockets): it belongs to the thread that created it — the kernel's
/// control thread or the coprocessor server's main thread — and must only be used there.
public final class ZMQSocket {
    public enum Kind {
        case dealer, router
        var raw: Int32 { self == .dealer ? ZMQ_DEALER : ZMQ_ROUTER }
    }

    private let context: ZMQContext
    private(set) var handle: UnsafeMutableRawPointer?
    public let kind: Kind

    public init(_ kind: Kind, context: ZMQContext = .shared) throws {
        guard let handle = zmq_socket(context.handle, kind.raw) else { throw ZMQSocket.lastError("zmq_socket") }
        self.context = context
        self.handle = handle
        self.kind = kind
        var linger: Int32 = 0
        guard zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size) == 0 else {
            zmq_close(handle)
            throw ZMQSocket.lastError("zmq_setsockopt(ZMQ_LINGER)")
        }
    }

    deinit { close() }

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(try live(), endpoint) == 0 else { throw ZMQSocket.lastError("zmq_bind(\(endpoint))") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(try live(), endpoint) == 0 else { throw ZMQSocket.lastError("zmq_connect(\(endpoint))") }
    }

    /// DEALER: sends one single-frame message.
    public func send(_ frame: [UInt8]) throws {
        try sendPart(frame, more: false)
    }

    /// ROUTER: sends one message (`frame`) to the peer `identity` (as received with it).
    public func send(identity: [UInt8], frame: [UInt8]) throws {
        try sendPart(identity, more: true)
        try sendPart(frame, more: false)
    }

    /// DEALER: the next message's first frame, or nil when none is queued. Extra frames are dropped.
    public func receive() throws -> [UInt8]? {
        guard let parts = try receiveMessage() else { return nil }
        return parts.first
    }

    /// ROUTER: the next message as (peer identity, first frame after it), or nil when none is
    /// queued. A message without a payload frame yields an empty frame.
    public func receiveRouted() throws -> (identity: [UInt8], frame: [UInt8])? {
        guard let parts = try receiveMessage() else { return nil }
        return (parts[0], parts.count > 1 ? parts[1] : [])
    }

    /// Closes the socket (idempotent); pending outgoing messages are dropped (linger 0).
    public func close() {
        if let handle {
            zmq_close(handle)
            self.handle = nil
        }
    }

    // MARK: private

    private func live() throws -> UnsafeMutableRawPointer {
        guard let handle else { throw TransportError.zmq(call: "closed socket", errno: ENOTSOCK) }
        return handle
    }

    private func sendPart(_ bytes: [UInt8], more: Bool) throws {
        let handle = try live()
        let flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)
        while true {
            let rc = bytes.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            if rc >= 0 { return }
            if zmq_errno() == EINTR { continue }
            throw ZMQSocket.lastError("zmq_send")
        }
    }

    /// Every frame of the next message, or nil when none is queued.
    private func receiveMessage() throws -> [[UInt8]]? {
        let handle = try live()
        var parts: [[UInt8]] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        repeat {
            let rc = zmq_msg_recv(&message, handle, parts.isEmpty ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let code = zmq_errno()
                if code == EINTR { continue }
                if code == EAGAIN && parts.isEmpty { return nil }
                throw TransportError.zmq(call: "zmq_msg_recv", errno: code)
            }
            let bytes = zmq_msg_data(&message).map { UnsafeRawBufferPointer(start: $0, count: zmq_msg_size(&message)) }
            parts.append(bytes.map(Array.init) ?? [])
        } while zmq_msg_more(&message) != 0
        return parts
    }

    static func lastError(_ call: String) -> TransportError {
        .zmq(call: call, errno: zmq_errno())
    }
}
