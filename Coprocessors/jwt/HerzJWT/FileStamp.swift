import Glibc

/// What identifies one version of a file without reading it: device, inode, size, and the
/// modification and status-change times. A rename over the path, an in-place rewrite or a
/// `touch` all change it. A value; any thread.
struct FileStamp: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: timespec
    let changed: timespec

    /// The stamp of `path` now, or the `errno` text when it cannot be stat'ed.
    static func of(_ path: String) -> Result<FileStamp, JWKSetError> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(JWKSetError(reason: String(cString: strerror(errno)))) }
        return .success(FileStamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                                  modified: info.st_mtim, changed: info.st_ctim))
    }

    static func == (a: FileStamp, b: FileStamp) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
            && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
    }
}
