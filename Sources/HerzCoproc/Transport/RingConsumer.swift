/// The reading side of one ring (docs/coprocessor-protocol.md section 3, "Records" and "Wake-ups").
///
/// Pure state over memory: it never makes a system call. `next()` validates and returns records
/// in order; a returned record stays valid (the producer cannot overwrite it) until `release()`
/// publishes `head`, so several records can be consumed per release. Owned by exactly one thread
/// (the ring's consumer) for its whole life; no locks.
public struct RingConsumer {
    /// What `next()` found.
    public enum Next: Equatable {
        /// One message payload (`length` bytes, including the producer's padding). Valid until `release()`.
        case record(UnsafeRawBufferPointer)
        /// Nothing published beyond what was read.
        case empty
        /// The ring is corrupt: the session is broken. The consumer stays at the offending record.
        case violation(RingViolation)

        public static func == (lhs: Next, rhs: Next) -> Bool {
            switch (lhs, rhs) {
            case (.record(let a), .record(let b)): return a.baseAddress == b.baseAddress && a.count == b.count
            case (.empty, .empty): return true
            case (.violation(let a), .violation(let b)): return a == b
            default: return false
            }
        }
    }

    private let geometry: RingGeometry
    private var control: RingControlBlock { geometry.control }
    private var data: UnsafeMutableRawPointer { geometry.data }
    private var capacity: Int { geometry.capacity }
    private var mask: UInt64 { geometry.mask }
    /// The largest payload one record may carry (`ringBytes / 2 - 8`).
    public var maxFrame: Int { geometry.maxFrame }
    /// Read position: everything before it was returned by `next()`.
    private var position: UInt64
    /// Published `head`.
    private var head: UInt64
    private var cachedTail: UInt64

    /// A consumer over the ring at `ring` (control block followed by `ringBytes` of data, a power
    /// of two ≥ 4096). It resumes from the published `head`.
    public init(ring: UnsafeMutableRawPointer, ringBytes: Int) {
        self.geometry = RingGeometry(ring: ring, ringBytes: ringBytes)
        self.head = geometry.control.loadHead()
        self.position = head
        self.cachedTail = head
    }

    /// The next message record, skipping wrap records.
    public mutating func next() -> Next {
        while true {
            if position == cachedTail {
                cachedTail = control.loadTail()
                if position == cachedTail { return .empty }
            }
            let available = cachedTail &- position
            let unreleased = cachedTail &- head
            guard unreleased <= UInt64(capacity), available <= unreleased else {
                return .violation(.tailOutOfRange(head: head, tail: cachedTail))
            }
            guard available >= UInt64(RingLayoutConstants.recordHeaderBytes) else { return .violation(.pastTail) }

            let offset = Int(position & mask)
            let header = data + offset
            let length = UInt32(littleEndian: header.loadUnaligned(as: UInt32.self))
            let kind = UInt32(littleEndian: (header + 4).loadUnaligned(as: UInt32.self))
            guard length & 7 == 0 else { return .violation(.unalignedLength(length)) }
            let recordBytes = RingLayoutConstants.recordHeaderBytes + Int(length)
            let endOffset = offset + recordBytes

            switch kind {
            case RingLayoutConstants.kindWrap:
                guard endOffset == capacity else { return .violation(.pastRingEnd) }
                guard UInt64(recordBytes) <= available else { return .violation(.pastTail) }
                position &+= UInt64(recordBytes)
            case RingLayoutConstants.kindMessage:
                guard Int(length) <= maxFrame else { return .violation(.lengthExceedsMaxFrame(length)) }
                guard endOffset <= capacity else { return .violation(.pastRingEnd) }
                guard UInt64(recordBytes) <= available else { return .violation(.pastTail) }
                position &+= UInt64(recordBytes)
                return .record(UnsafeRawBufferPointer(start: header + RingLayoutConstants.recordHeaderBytes, count: Int(length)))
            default:
                return .violation(.unknownKind(kind))
            }
        }
    }

    /// Publishes `head` up to everything `next()` returned, freeing that space (earlier records
    /// become invalid). Returns `true` when the producer was waiting for space: write one doorbell byte.
    public mutating func release() -> Bool {
        guard position != head else { return false }
        head = position
        control.storeHead(head)
        return RingControlBlock.claim(control.producerWaiting)
    }

    /// Called with nothing left to read, before sleeping: sets `consumerSleeping` and re-checks
    /// `tail`. Returns `true` when the owner may sleep until a doorbell; `false` when data arrived
    /// meanwhile (the flag is cleared again: keep consuming).
    public mutating func prepareToSleep() -> Bool {
        RingControlBlock.raise(control.consumerSleeping)
        cachedTail = control.loadTail()
        if cachedTail != position {
            RingControlBlock.lower(control.consumerSleeping)
            return false
        }
        return true
    }

    /// Called when woken (or when giving up sleep for another reason): clears `consumerSleeping`
    /// so the producer stops ringing while this side is awake.
    public func didWake() {
        RingControlBlock.lower(control.consumerSleeping)
    }

    /// True when a spinning consumer should look again: `tail` moved beyond what was read.
    /// One acquire load; meant for the bounded spin before `prepareToSleep`.
    public mutating func hasPublishedData() -> Bool {
        cachedTail = control.loadTail()
        return cachedTail != position
    }
}
