import Glibc

/// What `stat` says about a file that changes when it is rewritten in place or replaced by a rename:
/// device, inode, size, modification and status-change times (nanoseconds). Equal stamps mean
/// "assume unchanged". Coprocessors that watch key or config files (herz-jwt, herz-aesgcm) and the
/// kernel watching its flow-rules file poll it. (In HerzCoproc, which both the kernel and the SDK use.)
public struct FileStamp: Equatable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let modified: Int64
    public let changed: Int64

    /// The file's stamp, nil when it cannot be stat'ed (missing, no permission).
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
    }
}
