import Glibc

/// Why a transport operation (shared region, doorbell, attach socket, ZeroMQ) failed. Values only:
/// safe to pass between threads.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: its name and errno.
    case system(call: String, errno: Int32)
    /// A shared region whose header, size, seals or layout do not match what the protocol requires.
    case invalidRegion(String)
    /// The peer closed the connection (EOF) before a complete frame arrived.
    case peerClosed
    /// A frame on the attach socket exceeded the caller's limit, or was not a valid frame.
    case invalidFrame(String)
    /// A ZeroMQ call failed: its name and zmq_errno().
    case zmq(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .system(let call, let code): return "\(call): \(String(cString: strerror(code)))"
        case .invalidRegion(let why): return "invalid shared region: \(why)"
        case .peerClosed: return "peer closed the connection"
        case .invalidFrame(let why): return "invalid attach frame: \(why)"
        case .zmq(let call, let code): return "\(call): zmq errno \(code)"
        }
    }

    /// `.system(call:errno:)` with the current `errno`.
    static func lastError(_ call: String) -> TransportError {
        .system(call: call, errno: errno)
    }
}
