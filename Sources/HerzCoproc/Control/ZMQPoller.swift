import CZeroMQ
import Glibc

/// `zmq_poll` over ZeroMQ sockets and raw fds at once (the coprocessor server's main loop waits on
/// its ROUTER, its attach listener and every session's attach socket together).
///
/// Stateless; call it on the thread that owns the sockets.
public enum ZMQPoller {
    /// Readiness after a poll, indexed like the inputs. A raw fd reports `true` when readable or in
    /// error/hang-up (reading it then tells which).
    public struct Ready: Equatable {
        public var sockets: [Bool]
        public var fds: [Bool]

        public init(sockets: [Bool], fds: [Bool]) {
            self.sockets = sockets
            self.fds = fds
        }

        public var any: Bool { sockets.contains(true) || fds.contains(true) }
    }

    /// Waits until one of `sockets` has a message, one of `fds` is readable (or hung up), or
    /// `timeoutMillis` passes (-1 = forever, 0 = just look). EINTR returns with nothing ready.
    public static func poll(sockets: [ZMQSocket], fds: [Int32] = [], timeoutMillis: Int) throws -> Ready {
        var items: [zmq_pollitem_t] = []
        items.reserveCapacity(sockets.count + fds.count)
        for socket in sockets {
            items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0))
        }
        for fd in fds {
            items.append(zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0))
        }
        let rc = zmq_poll(&items, Int32(items.count), timeoutMillis)
        if rc < 0 {
            if zmq_errno() == EINTR { return Ready(sockets: sockets.map { _ in false }, fds: fds.map { _ in false }) }
            throw ZMQSocket.lastError("zmq_poll")
        }
        let ready = items.map { $0.revents & Int16(ZMQ_POLLIN | ZMQ_POLLERR) != 0 }
        return Ready(sockets: Array(ready[..<sockets.count]), fds: Array(ready[sockets.count...]))
    }
}
