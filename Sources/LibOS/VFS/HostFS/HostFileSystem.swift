#if canImport(Glibc)
import Glibc
#endif
import CLibOSHost

/// A host folder mounted into the guest (`hostfs` mounts), confined to that folder.
///
/// Every host call is made relative to the mount's root descriptor through
/// `cloister_host_open_beneath` (openat2 with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS), and the
/// final component is always handled with `*at` calls that do not follow symbolic links. Symbolic
/// links themselves are interpreted by the kernel's path walker, never by the host, so neither
/// `..` nor a link can lead outside the folder.
public final class HostFileSystem: @unchecked Sendable {
    let device: UInt64
    let rootFD: Int32
    /// The host folder, for messages.
    public let hostPath: String
    /// Whether every change is refused with `EROFS` (the hostfs option `read_only`).
    public let isReadOnly: Bool
    public private(set) var root: HostInode!

    /// Opens `hostPath`, which must be an existing directory.
    public init(hostPath: String, device: UInt64, readOnly: Bool = false) throws(Errno) {
        let fd = open(hostPath, CLOISTER_HOST_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw Errno(host: errno).with(reason: "cannot open hostfs source \(hostPath)") }
        self.rootFD = fd
        self.device = device
        self.hostPath = hostPath
        self.isReadOnly = readOnly
        self.root = HostInode(fs: self, components: [])
    }

    deinit { Glibc.close(rootFD) }

    /// Throws `EROFS` when the mount is read-only.
    @inline(__always)
    func checkWritable() throws(Errno) {
        if isReadOnly { throw .rofs }
    }

    /// Opens a path relative to the mount root, never leaving it, following no link.
    func openBeneath(_ components: ArraySlice<String>, flags: Int32, mode: UInt32 = 0) throws(Errno) -> Int32 {
        let path = components.isEmpty ? "." : components.joined(separator: "/")
        let fd = cloister_host_open_beneath(rootFD, path, flags, mode)
        if fd < 0 { throw Errno(host: errno) }
        return fd
    }
}

/// Converts a host `stat` into the kernel's ``FileStat``.
func fileStat(_ st: stat, device: UInt64) -> FileStat {
    let type: FileType
    switch st.st_mode & S_IFMT {
    case S_IFDIR: type = .directory
    case S_IFREG: type = .regularFile
    case S_IFLNK: type = .symbolicLink
    case S_IFCHR: type = .characterDevice
    case S_IFBLK: type = .blockDevice
    case S_IFSOCK: type = .socketStream
    default: type = .unknown
    }
    // Host values are not trusted to fit: sizes are clamped, times saturate (a file dated
    // after 2554 reads as UInt64.max nanoseconds, one before 1970 as 0).
    return FileStat(
        device: device, inode: UInt64(clamping: st.st_ino), type: type, linkCount: UInt64(clamping: st.st_nlink),
        size: UInt64(clamping: st.st_size), accessTime: nanoseconds(of: st.st_atim),
        modificationTime: nanoseconds(of: st.st_mtim), changeTime: nanoseconds(of: st.st_ctim))
}

/// Retries a host call interrupted by a signal; throws the host errno as an ``Errno``.
@inline(__always)
func hostCall<T: BinaryInteger>(_ body: () -> T) throws(Errno) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        if errno != EINTR { throw Errno(host: errno) }
    }
}

/// A timespec pair for `utimensat`/`futimens`.
func hostTimes(access: TimeChange, modification: TimeChange) -> [timespec] {
    func spec(_ change: TimeChange) -> timespec {
        switch change {
        case .keep: return timespec(tv_sec: 0, tv_nsec: CLOISTER_HOST_UTIME_OMIT)
        case .now: return timespec(tv_sec: 0, tv_nsec: CLOISTER_HOST_UTIME_NOW)
        case .set(let ns): return timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
        }
    }
    return [spec(access), spec(modification)]
}
