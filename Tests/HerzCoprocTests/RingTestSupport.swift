import HerzCoproc

/// A ring (control block + data) on the heap, for testing producer and consumer in one process.
final class HeapRing: @unchecked Sendable {
    let ringBytes: Int
    let memory: UnsafeMutableRawPointer

    init(ringBytes: Int = 4096) {
        self.ringBytes = ringBytes
        memory = .allocate(byteCount: RingLayoutConstants.controlBlockBytes + ringBytes, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: RingLayoutConstants.controlBlockBytes + ringBytes)
    }

    deinit { memory.deallocate() }

    func producer() -> RingProducer { RingProducer(ring: memory, ringBytes: ringBytes) }
    func consumer() -> RingConsumer { RingConsumer(ring: memory, ringBytes: ringBytes) }

    var tail: UInt64 {
        get { memory.load(fromByteOffset: 0, as: UInt64.self) }
        set { memory.storeBytes(of: newValue, toByteOffset: 0, as: UInt64.self) }
    }

    var head: UInt64 {
        get { memory.load(fromByteOffset: 64, as: UInt64.self) }
        set { memory.storeBytes(of: newValue, toByteOffset: 64, as: UInt64.self) }
    }

    /// Writes a raw record header at data offset `offset` (for crafting violations).
    func writeHeader(at offset: Int, length: UInt32, kind: UInt32) {
        let data = memory + RingLayoutConstants.controlBlockBytes
        data.storeBytes(of: length.littleEndian, toByteOffset: offset, as: UInt32.self)
        data.storeBytes(of: kind.littleEndian, toByteOffset: offset + 4, as: UInt32.self)
    }
}

/// Deterministic frames: 8-byte sequence number, then bytes derived from it, so a reader can check
/// content, order and length without shared state.
enum TestFrames {
    static func size(_ sequence: UInt64, max: Int) -> Int {
        // Mixed sizes: mostly small, some near the maximum, never below the 8-byte sequence.
        var x = sequence &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        let pick = Int(x % 100)
        if pick < 70 { return 8 + Int(x >> 8) % 120 }
        if pick < 95 { return 8 + Int(x >> 8) % 1500 }
        return max - Int(x >> 8) % 64
    }

    static func fill(_ buffer: UnsafeMutableRawBufferPointer, sequence: UInt64) {
        buffer.storeBytes(of: sequence, as: UInt64.self)
        for i in 8..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: sequence &+ UInt64(i) &* 31) }
    }

    /// The sequence number when `record` holds a valid frame of at least `size` bytes, else nil.
    static func check(_ record: UnsafeRawBufferPointer, size: Int) -> UInt64? {
        guard record.count >= size, record.count == (size + 7) & ~7 else { return nil }
        let sequence = record.loadUnaligned(as: UInt64.self)
        for i in 8..<size where record[i] != UInt8(truncatingIfNeeded: sequence &+ UInt64(i) &* 31) { return nil }
        return sequence
    }
}
