#if canImport(Glibc)
import Glibc
#endif

/// What tells a file changed without reading it: modification time (ns), size and inode.
/// Read with one `stat` call (FileManager's attributes also look up the owner's name, which
/// reads /etc/passwd on every call).
struct FileStamp: Equatable, Sendable {
    let modifiedNanoseconds: Int64
    let size: Int64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        size = Int64(info.st_size)
        inode = UInt64(info.st_ino)
    }

    /// A stamp this recent may not tell a change apart: a file rewritten twice within the file
    /// system's timestamp granularity keeps its time and maybe its size. Such files are read again.
    func isRecent(nowWallNanoseconds: Int64) -> Bool {
        nowWallNanoseconds - modifiedNanoseconds < 2_000_000_000
    }

    static func wallClockNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
