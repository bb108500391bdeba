import CHerzSys
import Glibc

/// Which ring of a worker's pair (docs/coprocessor-protocol.md section 3).
public enum RingDirection: Int, Sendable {
    /// Kernel → coprocessor (`KernelToCoprocessor` frames).
    case calls = 0
    /// Coprocessor → kernel (`CoprocessorToKernel` frames).
    case answers = 1
}

/// One session's shared-memory region: a sealed memfd mapped read-write, holding the region
/// header and `2 · workers` rings (layoutVersion 1).
///
/// Guarantees: the mapping stays valid, and the fd open, until the region is deinitialised; a
/// region obtained from `map` has a header and size that match its `layout`, and size seals, so
/// the peer cannot shrink it under us (no SIGBUS). Immutable after creation: any thread may read
/// its properties; each ring's producer and consumer are owned by their own threads.
public final class SharedRegion: @unchecked Sendable {
    public static let magic: [UInt8] = Array("HERZRING".utf8)

    public let layout: RingLayout
    /// The memfd (sent to the coprocessor with Attach; closed with the region).
    public let fd: Int32
    public let base: UnsafeMutableRawPointer

    private init(layout: RingLayout, fd: Int32, base: UnsafeMutableRawPointer) {
        self.layout = layout
        self.fd = fd
        self.base = base
    }

    deinit {
        munmap(base, Int(layout.regionBytes))
        close(fd)
    }

    /// `4096 + 2 · workers · (256 + ringBytes)`.
    public static func regionBytes(workers: UInt32, ringBytes: UInt32) -> UInt64 {
        UInt64(RingLayoutConstants.regionHeaderBytes) + 2 * UInt64(workers) * UInt64(RingLayoutConstants.controlBlockBytes + Int(ringBytes))
    }

    /// The layout of a region with `workers` ring pairs of `ringBytes` each.
    public static func layout(workers: UInt32, ringBytes: UInt32) -> RingLayout {
        RingLayout(workers: workers, ringBytes: ringBytes, regionBytes: regionBytes(workers: workers, ringBytes: ringBytes))
    }

    /// Kernel side: creates a memfd (mode 0600) of the layout's size, writes the header, seals its
    /// size and maps it.
    public static func create(workers: UInt32, ringBytes: UInt32, name: String = "herz-ring") throws -> SharedRegion {
        let layout = layout(workers: workers, ringBytes: ringBytes)
        try validate(layout)
        let fd = herz_memfd_create(name)
        guard fd >= 0 else { throw TransportError.lastError("memfd_create") }
        do {
            guard fchmod(fd, 0o600) == 0 else { throw TransportError.lastError("fchmod") }
            guard ftruncate(fd, off_t(layout.regionBytes)) == 0 else { throw TransportError.lastError("ftruncate") }
            guard herz_memfd_seal_size(fd) == 0 else { throw TransportError.lastError("fcntl(F_ADD_SEALS)") }
            let base = try mapShared(fd: fd, bytes: Int(layout.regionBytes))
            writeHeader(base, layout)
            return SharedRegion(layout: layout, fd: fd, base: base)
        } catch {
            close(fd)
            throw error
        }
    }

    /// Coprocessor side: maps the memfd received with Attach and checks it against `layout`
    /// (version, sizes, seals, magic and header). Takes ownership of `fd` (closed on failure too).
    public static func map(fd: Int32, layout: RingLayout) throws -> SharedRegion {
        do {
            try validate(layout)
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw TransportError.lastError("fstat") }
            guard UInt64(info.st_size) == layout.regionBytes else {
                throw TransportError.invalidRegion("memfd is \(info.st_size) bytes, layout says \(layout.regionBytes)")
            }
            let seals = herz_memfd_seals(fd)
            let required = herz_memfd_size_seals()
            guard seals >= 0, seals & required == required else { throw TransportError.invalidRegion("memfd size is not sealed") }
            let base = try mapShared(fd: fd, bytes: Int(layout.regionBytes))
            if let problem = headerProblem(base, layout) {
                munmap(base, Int(layout.regionBytes))
                throw TransportError.invalidRegion(problem)
            }
            return SharedRegion(layout: layout, fd: fd, base: base)
        } catch {
            close(fd)
            throw error
        }
    }

    /// The start (control block) of ring `direction` of worker `worker`.
    public func ring(worker: Int, direction: RingDirection) -> UnsafeMutableRawPointer {
        precondition(worker >= 0 && worker < Int(layout.workers), "worker \(worker) out of range")
        let index = 2 * worker + direction.rawValue
        return base + RingLayoutConstants.regionHeaderBytes + index * (RingLayoutConstants.controlBlockBytes + Int(layout.ringBytes))
    }

    public func producer(worker: Int, direction: RingDirection) -> RingProducer {
        RingProducer(ring: ring(worker: worker, direction: direction), ringBytes: Int(layout.ringBytes))
    }

    public func consumer(worker: Int, direction: RingDirection) -> RingConsumer {
        RingConsumer(ring: ring(worker: worker, direction: direction), ringBytes: Int(layout.ringBytes))
    }

    /// Bytes published on a ring and not yet released by its consumer (`tail - head`): 0 means
    /// every record was consumed. Safe from any thread (two acquire loads).
    public func unconsumedBytes(worker: Int, direction: RingDirection) -> UInt64 {
        let control = RingControlBlock(base: ring(worker: worker, direction: direction))
        let head = control.loadHead()
        return control.loadTail() &- head
    }

    // MARK: layout checks

    private static func validate(_ layout: RingLayout) throws {
        guard layout.layoutVersion == CoprocProtocol.layoutVersion else {
            throw TransportError.invalidRegion("layout version \(layout.layoutVersion), this build speaks \(CoprocProtocol.layoutVersion)")
        }
        let ringBytes = Int(layout.ringBytes)
        guard ringBytes >= RingLayoutConstants.minimumRingBytes, ringBytes & (ringBytes - 1) == 0 else {
            throw TransportError.invalidRegion("ringBytes \(ringBytes) is not a power of two ≥ 4096")
        }
        guard layout.workers >= 1 else { throw TransportError.invalidRegion("no workers") }
        guard layout.regionBytes == regionBytes(workers: layout.workers, ringBytes: layout.ringBytes) else {
            throw TransportError.invalidRegion("regionBytes \(layout.regionBytes) does not match workers and ringBytes")
        }
    }

    private static func mapShared(fd: Int32, bytes: Int) throws -> UnsafeMutableRawPointer {
        guard let base = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw TransportError.lastError("mmap")
        }
        return base
    }

    private static func writeHeader(_ base: UnsafeMutableRawPointer, _ layout: RingLayout) {
        base.initializeMemory(as: UInt8.self, repeating: 0, count: RingLayoutConstants.regionHeaderBytes)
        for (i, byte) in magic.enumerated() { base.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
        base.storeBytes(of: layout.layoutVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
        base.storeBytes(of: layout.workers.littleEndian, toByteOffset: 12, as: UInt32.self)
        base.storeBytes(of: layout.ringBytes.littleEndian, toByteOffset: 16, as: UInt32.self)
    }

    private static func headerProblem(_ base: UnsafeMutableRawPointer, _ layout: RingLayout) -> String? {
        let found = (0..<magic.count).map { base.load(fromByteOffset: $0, as: UInt8.self) }
        guard found == magic else { return "bad magic" }
        let version = UInt32(littleEndian: base.load(fromByteOffset: 8, as: UInt32.self))
        let workers = UInt32(littleEndian: base.load(fromByteOffset: 12, as: UInt32.self))
        let ringBytes = UInt32(littleEndian: base.load(fromByteOffset: 16, as: UInt32.self))
        guard version == layout.layoutVersion else { return "header layout version \(version), attach says \(layout.layoutVersion)" }
        guard workers == layout.workers else { return "header has \(workers) workers, attach says \(layout.workers)" }
        guard ringBytes == layout.ringBytes else { return "header ringBytes \(ringBytes), attach says \(layout.ringBytes)" }
        return nil
    }
}
