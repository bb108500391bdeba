import CHerzSys

/// Offsets and constants of one ring's layout (docs/coprocessor-protocol.md section 3), shared by
/// `RingProducer`, `RingConsumer` and `SharedRegion` so the numbers live in one place.
public enum RingLayoutConstants {
    /// Bytes of the control block in front of each ring's data.
    public static let controlBlockBytes = 256
    /// Bytes of the region header in front of the first ring.
    public static let regionHeaderBytes = 4096
    /// The smallest `ringBytes` the protocol allows.
    public static let minimumRingBytes = 4096
    /// Bytes of a record header (`u32 length`, `u32 kind`); also the record alignment.
    public static let recordHeaderBytes = 8
    static let tailOffset = 0
    static let headOffset = 64
    static let consumerSleepingOffset = 128
    static let producerWaitingOffset = 192
    static let kindMessage: UInt32 = 1
    static let kindWrap: UInt32 = 2

    /// The largest record payload a ring of `ringBytes` carries: `ringBytes / 2 - 8`.
    public static func maxFrame(ringBytes: Int) -> Int { ringBytes / 2 - recordHeaderBytes }

    /// `length` rounded up to the record alignment.
    @inline(__always) static func aligned(_ length: Int) -> Int { (length + 7) & ~7 }
}

/// The four shared fields of a ring's control block, accessed with the orderings the protocol
/// prescribes. A view over memory it does not own; each field has one writer (see the doc's table).
struct RingControlBlock {
    let base: UnsafeMutableRawPointer

    @inline(__always) func loadTail() -> UInt64 { herz_load_acquire_u64(base + RingLayoutConstants.tailOffset) }
    @inline(__always) func storeTail(_ value: UInt64) { herz_store_release_u64(base + RingLayoutConstants.tailOffset, value) }
    @inline(__always) func loadHead() -> UInt64 { herz_load_acquire_u64(base + RingLayoutConstants.headOffset) }
    @inline(__always) func storeHead(_ value: UInt64) { herz_store_release_u64(base + RingLayoutConstants.headOffset, value) }

    @inline(__always) var consumerSleeping: UnsafeMutableRawPointer { base + RingLayoutConstants.consumerSleepingOffset }
    @inline(__always) var producerWaiting: UnsafeMutableRawPointer { base + RingLayoutConstants.producerWaitingOffset }

    /// The Dekker-style hand-off both flags use: after publishing (`fence`), claim the flag only
    /// when it is set, so while the peer is awake no read-modify-write (and no syscall) happens.
    @inline(__always) static func claim(_ flag: UnsafeMutableRawPointer) -> Bool {
        herz_fence_seqcst()
        return herz_load_seqcst_u32(flag) == 1 && herz_exchange_seqcst_u32(flag, 0) == 1
    }

    /// Sets `flag` to 1 and fences, so the re-check that follows sees the peer's latest position.
    @inline(__always) static func raise(_ flag: UnsafeMutableRawPointer) {
        herz_store_seqcst_u32(flag, 1)
        herz_fence_seqcst()
    }

    @inline(__always) static func lower(_ flag: UnsafeMutableRawPointer) { herz_store_seqcst_u32(flag, 0) }
}

/// Where one ring lives and how big it is: its control block, its data area, the capacity (a power
/// of two ≥ 4096, checked here once) and the largest record payload. Shared by both ends.
struct RingGeometry {
    let control: RingControlBlock
    let data: UnsafeMutableRawPointer
    let capacity: Int
    let mask: UInt64
    let maxFrame: Int

    /// The ring at `ring`: a control block followed by `ringBytes` of data.
    init(ring: UnsafeMutableRawPointer, ringBytes: Int) {
        precondition(ringBytes >= RingLayoutConstants.minimumRingBytes && ringBytes & (ringBytes - 1) == 0,
                     "ringBytes must be a power of two ≥ 4096")
        self.control = RingControlBlock(base: ring)
        self.data = ring + RingLayoutConstants.controlBlockBytes
        self.capacity = ringBytes
        self.mask = UInt64(ringBytes - 1)
        self.maxFrame = RingLayoutConstants.maxFrame(ringBytes: ringBytes)
    }
}
