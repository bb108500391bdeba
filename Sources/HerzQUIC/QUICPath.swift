import CHerzQUIC
import Glibc
import HerzCore
import NIOCore

/// Socket addresses as ngtcp2 wants them (`ngtcp2_path`), built from NIO's `SocketAddress` for the
/// duration of one call; ngtcp2 copies what it keeps.
enum QUICPath {
    static func with<T>(local: SocketAddress, remote: SocketAddress, _ body: (UnsafePointer<ngtcp2_path>) -> T) -> T {
        local.withSockAddr { localPointer, localLength in
            remote.withSockAddr { remotePointer, remoteLength in
                var path = ngtcp2_path(
                    local: ngtcp2_addr(addr: UnsafeMutablePointer(mutating: localPointer), addrlen: ngtcp2_socklen(localLength)),
                    remote: ngtcp2_addr(addr: UnsafeMutablePointer(mutating: remotePointer), addrlen: ngtcp2_socklen(remoteLength)),
                    user_data: nil)
                return body(&path)
            }
        }
    }

    /// The remote address ngtcp2 chose for an outgoing packet; `cached` is returned when it is
    /// the same address (the common case: no allocation per packet).
    static func remoteAddress(of path: ngtcp2_path, cached: SocketAddress) -> SocketAddress? {
        let same = cached.withSockAddr { pointer, length in
            Int(path.remote.addrlen) == length && memcmp(pointer, path.remote.addr, length) == 0
        }
        if same { return cached }
        return socketAddress(path.remote.addr, Int(path.remote.addrlen))
    }

    static func socketAddress(_ pointer: UnsafePointer<sockaddr>?, _ length: Int) -> SocketAddress? {
        guard let pointer else { return nil }
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET where length >= MemoryLayout<sockaddr_in>.size:
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
        case AF_INET6 where length >= MemoryLayout<sockaddr_in6>.size:
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
        default:
            return nil
        }
    }
}

extension QUICConnectionID {
    init(ngtcp2 cid: ngtcp2_cid) {
        var copy = cid
        let length = min(Int(copy.datalen), QUICConnectionID.maxLength)
        self = withUnsafeBytes(of: &copy.data) { QUICConnectionID($0.prefix(length))! }
    }

    var ngtcp2: ngtcp2_cid {
        var cid = ngtcp2_cid()
        let bytes = self.bytes
        ngtcp2_cid_init(&cid, bytes, bytes.count)
        return cid
    }
}
