/// The writing side of one ring (docs/coprocessor-protocol.md section 3, "Records" and "Wake-ups").
///
/// Pure state over memory: it never makes a system call. It tells its owner when a doorbell byte
/// must be written (`needsDoorbell`) and when it may wait for space (`prepareToWait`); the owner
/// rings the `Doorbell`. Owned by exactly one thread (the ring's producer) for its whole life;
/// the consumer may run on another thread or in another process. No locks: the only shared state
/// is the control block, accessed with acquire/release and sequentially consistent atomics.
public struct RingProducer {
    /// What `write` did.
    public enum WriteResult: Equatable {
        /// The record is published. `needsDoorbell`: the consumer was asleep; write one doorbell byte.
        case written(needsDoorbell: Bool)
        /// Not enough free space now: park the frame, `prepareToWait`, retry after a wake-up.
        case full
        /// Larger than `maxFrame`: it can never be written (reason `frame-too-large`).
        case tooLarge
    }

    private let geometry: RingGeometry
    private var control: RingControlBlock { geometry.control }
    private var data: UnsafeMutableRawPointer { geometry.data }
    private var capacity: Int { geometry.capacity }
    private var mask: UInt64 { geometry.mask }
    /// The largest payload one record carries (`ringBytes / 2 - 8`).
    public var maxFrame: Int { geometry.maxFrame }
    private var tail: UInt64
    private var cachedHead: UInt64

    /// A producer over the ring at `ring` (control block followed by `ringBytes` of data, a power
    /// of two ≥ 4096). It resumes from the published `tail`.
    public init(ring: UnsafeMutableRawPointer, ringBytes: Int) {
        self.geometry = RingGeometry(ring: ring, ringBytes: ringBytes)
        self.tail = geometry.control.loadTail()
        self.cachedHead = geometry.control.loadHead()
    }

    /// Bytes a record with a `size`-byte payload takes at the current position, including the wrap
    /// record that must precede it when it would not fit before the end of the ring.
    private func footprint(size: Int) -> Int {
        let need = RingLayoutConstants.recordHeaderBytes + RingLayoutConstants.aligned(size)
        let toEnd = capacity - Int(tail & mask)
        return need <= toEnd ? need : toEnd + need
    }

    private mutating func hasSpace(for bytes: Int, reloadHead: Bool) -> Bool {
        if capacity - Int(tail &- cachedHead) >= bytes { return true }
        guard reloadHead else { return false }
        cachedHead = control.loadHead()
        return capacity - Int(tail &- cachedHead) >= bytes
    }

    /// Writes one message record of at most `size` payload bytes. `fill` gets exactly `size`
    /// writable bytes and returns how many it used (0...size); the record is padded to 8 bytes.
    /// When `fill` throws, nothing is published.
    public mutating func write(size: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows -> WriteResult {
        guard size >= 0, RingLayoutConstants.aligned(size) <= maxFrame else { return .tooLarge }
        let total = footprint(size: size)
        guard hasSpace(for: total, reloadHead: true) else { return .full }

        var position = Int(tail & mask)
        var published = 0
        let toEnd = capacity - position
        if total > RingLayoutConstants.recordHeaderBytes + RingLayoutConstants.aligned(size) {
            writeHeader(at: position, length: toEnd - RingLayoutConstants.recordHeaderBytes, kind: RingLayoutConstants.kindWrap)
            published = toEnd
            position = 0
        }
        let payload = data + position + RingLayoutConstants.recordHeaderBytes
        let used = try fill(UnsafeMutableRawBufferPointer(start: payload, count: size))
        precondition(used >= 0 && used <= size, "fill returned \(used) for a \(size)-byte record")
        let length = RingLayoutConstants.aligned(used)
        if length > used { (payload + used).initializeMemory(as: UInt8.self, repeating: 0, count: length - used) }
        writeHeader(at: position, length: length, kind: RingLayoutConstants.kindMessage)
        published += RingLayoutConstants.recordHeaderBytes + length

        tail &+= UInt64(published)
        control.storeTail(tail)
        return .written(needsDoorbell: RingControlBlock.claim(control.consumerSleeping))
    }

    /// Convenience: writes `bytes` as one record.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) -> WriteResult {
        write(size: bytes.count) { target in
            if let source = bytes.baseAddress, bytes.count > 0 { target.baseAddress!.copyMemory(from: source, byteCount: bytes.count) }
            return bytes.count
        }
    }

    /// Called after `.full`, before waiting for a doorbell: sets `producerWaiting` and re-checks.
    /// Returns `true` when the owner must wait for a wake-up; `false` when space for a `size`-byte
    /// record freed meanwhile (retry the write now).
    public mutating func prepareToWait(size: Int) -> Bool {
        RingControlBlock.raise(control.producerWaiting)
        if hasSpace(for: footprint(size: size), reloadHead: true) {
            RingControlBlock.lower(control.producerWaiting)
            return false
        }
        return true
    }

    /// Bytes published and not yet consumed, as last observed.
    public var usedBytes: Int { Int(tail &- cachedHead) }

    @inline(__always) private func writeHeader(at position: Int, length: Int, kind: UInt32) {
        let header = data + position
        header.storeBytes(of: UInt32(length).littleEndian, as: UInt32.self)
        (header + 4).storeBytes(of: kind.littleEndian, as: UInt32.self)
    }
}
