#if canImport(Glibc)
import Glibc
#endif

/// An open regular file of a ``HostFileSystem``: a host descriptor the LibOS owns.
final class HostFileDescription: FileDescription, @unchecked Sendable {
    let fd: Int32
    private let file: HostInode
    private let device: UInt64

    init(fd: Int32, inode: HostInode, device: UInt64) {
        self.fd = fd
        self.file = inode
        self.device = device
    }

    var inode: (any Inode)? { file }
    var fileType: FileType { .regularFile }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try hostCall { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try hostCall { Glibc.write(fd, buffer.baseAddress, buffer.count) }
    }

    func pread(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Errno) -> Int {
        guard offset <= UInt64(Int64.max) else { throw .inval }
        return try hostCall { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    func pwrite(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(Errno) -> Int {
        guard offset <= UInt64(Int64.max) else { throw .inval }
        return try hostCall { Glibc.pwrite(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    func seek(_ offset: Int64, from origin: SeekOrigin) throws(Errno) -> UInt64 {
        let whence: Int32 = origin == .start ? SEEK_SET : (origin == .current ? SEEK_CUR : SEEK_END)
        return UInt64(try hostCall { lseek(fd, off_t(offset), whence) })
    }

    func stat() throws(Errno) -> FileStat {
        var st = Glibc.stat()
        _ = try hostCall { fstat(fd, &st) }
        return fileStat(st, device: device)
    }

    func setSize(_ size: UInt64) throws(Errno) {
        try file.fs.checkWritable()
        guard size <= UInt64(Int64.max) else { throw .fbig }
        _ = try hostCall { ftruncate(fd, off_t(size)) }
    }

    // A read-only mount refuses every change through a descriptor too, metadata included.
    func setTimes(access: TimeChange, modification: TimeChange) throws(Errno) {
        try file.fs.checkWritable()
        let times = hostTimes(access: access, modification: modification)
        _ = try hostCall { futimens(fd, times) }
    }

    func sync() throws(Errno) { _ = try hostCall { fsync(fd) } }

    func allocate(offset: UInt64, length: UInt64) throws(Errno) {
        try file.fs.checkWritable()
        let result = posix_fallocate(fd, off_t(clamping: offset), off_t(clamping: length))
        if result != 0 { throw Errno(host: result) }
    }

    var isAppending: Bool {
        get { fcntl(fd, F_GETFL) & O_APPEND != 0 }
        set {
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, newValue ? flags | O_APPEND : flags & ~O_APPEND)
        }
    }

    func readableBytes() -> UInt64? {
        guard let size = try? stat().size else { return nil }
        let position = UInt64(max(0, lseek(fd, 0, SEEK_CUR)))
        return size > position ? size - position : 0
    }

    func close() { Glibc.close(fd) }
}
