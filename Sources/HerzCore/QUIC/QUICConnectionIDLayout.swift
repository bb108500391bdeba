/// How Herz's server-chosen connection IDs say which worker owns the connection.
///
/// Every worker has its own UDP socket on the listener's port (`SO_REUSEPORT`); the Linux kernel
/// spreads datagrams by 4-tuple, so a client that changes address or port (migration, NAT
/// rebinding) may land on another worker. The first byte of every connection ID Herz issues is the
/// owning worker's index: the receiving worker reads it and hands the datagram to the owner
/// without any shared table. The remaining bytes are random (unguessable), so IDs of different
/// connections stay unlinkable apart from the worker index, which is not a secret.
public struct QUICConnectionIDLayout: Sendable, Equatable {
    /// Length of every connection ID Herz issues (short-header packets carry no length byte, so
    /// it is fixed). 1 byte of worker index + 17 random bytes.
    public static let standardLength = 18
    public let length: Int

    public init(length: Int = QUICConnectionIDLayout.standardLength) {
        precondition(length >= 8 && length <= QUICConnectionID.maxLength, "connection ID length out of range")
        self.length = length
    }

    /// A new ID owned by `worker`, its other bytes from `random` (a cryptographic generator in the kernel).
    public func makeID(worker: Int, random: (inout [UInt8]) -> Void) -> QUICConnectionID {
        precondition(worker >= 0 && worker <= Int(UInt8.max), "worker index does not fit the connection ID")
        var bytes = [UInt8](repeating: 0, count: length)
        random(&bytes)
        bytes[0] = UInt8(worker)
        return QUICConnectionID(bytes)!
    }

    /// The worker that issued `id`, when `id` has this layout's length (client-chosen IDs of
    /// Initial packets usually do not, and belong to whoever receives them).
    public func owner(of id: QUICConnectionID, workerCount: Int) -> Int? {
        guard id.count == length else { return nil }
        let worker = Int(id[0])
        return worker < workerCount ? worker : nil
    }
}
