import XCTest
import Glibc
import HerzCoproc

final class SharedRegionTests: XCTestCase {
    func testCreatedRegionMapsWithItsLayoutAndSharesMemory() throws {
        let kernel = try SharedRegion.create(workers: 2, ringBytes: 8192)
        XCTAssertEqual(kernel.layout.regionBytes, 4096 + 2 * 2 * (256 + 8192))
        let coprocessor = try SharedRegion.map(fd: dup(kernel.fd), layout: kernel.layout)
        XCTAssertNotEqual(kernel.base, coprocessor.base)

        var calls = kernel.producer(worker: 1, direction: .calls)
        var incoming = coprocessor.consumer(worker: 1, direction: .calls)
        XCTAssertEqual([UInt8](repeating: 42, count: 24).withUnsafeBytes { calls.write($0) }, .written(needsDoorbell: false))
        guard case .record(let record) = incoming.next() else { return XCTFail("no record through the mapping") }
        XCTAssertEqual(Array(record), [UInt8](repeating: 42, count: 24))
        XCTAssertEqual(coprocessor.consumer(worker: 0, direction: .calls).hasPublishedDataCopy, false)
        XCTAssertEqual(coprocessor.consumer(worker: 1, direction: .answers).hasPublishedDataCopy, false)
    }

    func testRegionIsSealedAndPrivate() throws {
        let region = try SharedRegion.create(workers: 1, ringBytes: 4096)
        XCTAssertNotEqual(ftruncate(region.fd, 1), 0, "size is sealed")
        var info = stat()
        XCTAssertEqual(fstat(region.fd, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
    }

    func testMapRejectsMismatchedLayouts() throws {
        let region = try SharedRegion.create(workers: 2, ringBytes: 4096)
        func mapError(_ layout: RingLayout) -> TransportError? {
            do { _ = try SharedRegion.map(fd: dup(region.fd), layout: layout); return nil } catch { return error as? TransportError }
        }
        XCTAssertNil(mapError(region.layout))
        var wrongVersion = region.layout; wrongVersion.layoutVersion = 2
        XCTAssertNotNil(mapError(wrongVersion))
        XCTAssertNotNil(mapError(SharedRegion.layout(workers: 1, ringBytes: 4096)), "size differs")
        var inconsistent = region.layout; inconsistent.workers = 3
        XCTAssertNotNil(mapError(inconsistent))
        XCTAssertNotNil(mapError(RingLayout(workers: 2, ringBytes: 3000, regionBytes: SharedRegion.regionBytes(workers: 2, ringBytes: 3000))))

        region.base.storeBytes(of: UInt8(0), as: UInt8.self)
        guard case .invalidRegion(let why)? = mapError(region.layout) else { return XCTFail("bad magic accepted") }
        XCTAssertEqual(why, "bad magic")
    }

    func testMapRejectsUnsealedMemory() throws {
        let fd = memfdWithoutSeals(bytes: Int(SharedRegion.regionBytes(workers: 1, ringBytes: 4096)))
        XCTAssertThrowsError(try SharedRegion.map(fd: fd, layout: SharedRegion.layout(workers: 1, ringBytes: 4096)))
    }

    private func memfdWithoutSeals(bytes: Int) -> Int32 {
        let path = "/tmp/herz-unsealed-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        unlink(path)
        _ = ftruncate(fd, off_t(bytes))
        return fd
    }
}

private extension RingConsumer {
    var hasPublishedDataCopy: Bool {
        var copy = self
        return copy.hasPublishedData()
    }
}
