/// An open file of a ``SefsFileSystem``.
///
/// The first description of a file decrypts and authenticates it whole (`EIO` if it was
/// tampered with); every description of the file shares that plaintext, charged to the
/// instance's memory budget; `fd_sync`, `fd_datasync` and the last close seal it again into the
/// host file, in place.
final class SefsFileDescription: FileDescription, @unchecked Sendable {
    private let fs: SefsFileSystem
    private let shared: SefsOpenFile
    private let lock = KernelLock()
    private var offset: UInt64 = 0
    private var isClosed = false
    var isAppending: Bool

    init(file: SefsInode, mode: OpenMode) throws(Errno) {
        self.fs = file.fs
        self.isAppending = mode.append
        self.shared = try file.fs.acquire(file.host, truncate: mode.truncate && mode.write)
    }

    /// The file where it lives now (a rename moves it).
    var inode: (any Inode)? { SefsInode(fs: fs, host: shared.lock.withLock { shared.host }) }
    var fileType: FileType { .regularFile }

    private func readShared(into buffer: UnsafeMutableRawBufferPointer, at position: UInt64) -> Int {
        shared.lock.withLock {
            guard position < UInt64(shared.contents.count) else { return 0 }
            let count = min(buffer.count, shared.contents.count - Int(position))
            shared.contents.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + Int(position), byteCount: count) }
            return count
        }
    }

    /// Writes at `position`, or at the end when `position` is nil; returns the end offset.
    private func writeShared(_ buffer: UnsafeRawBufferPointer, at position: UInt64?) throws(Errno) -> UInt64 {
        try shared.lock.withLock { () throws(Errno) -> UInt64 in
            let start = position ?? UInt64(shared.contents.count)
            if buffer.isEmpty { return start }
            // `start` is at most Int64.max (seek and pwrite refuse more), so this cannot overflow.
            let end = start + UInt64(buffer.count)
            if end > RamFileSystem.maximumFileSize { throw .fbig }
            if Int(end) > shared.contents.count { try shared.resize(to: Int(end)) }
            shared.overwrite(buffer, at: Int(start))
            return end
        }
    }

    private var size: UInt64 { shared.lock.withLock { UInt64(shared.contents.count) } }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        lock.withLock {
            let count = readShared(into: buffer, at: offset)
            offset += UInt64(count)
            return count
        }
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try lock.withLock { () throws(Errno) -> Int in
            offset = try writeShared(buffer, at: isAppending ? nil : offset)
            return buffer.count
        }
    }

    func pread(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Errno) -> Int {
        readShared(into: buffer, at: offset)
    }

    func pwrite(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(Errno) -> Int {
        _ = try writeShared(buffer, at: offset)
        return buffer.count
    }

    func seek(_ delta: Int64, from origin: SeekOrigin) throws(Errno) -> UInt64 {
        let end = size
        return try lock.withLock { () throws(Errno) -> UInt64 in
            offset = try seekTarget(current: offset, end: end, offset: delta, origin: origin)
            return offset
        }
    }

    func stat() throws(Errno) -> FileStat {
        let (host, detached) = shared.lock.withLock { (shared.host, shared.isDetached ? shared.detachedStat : nil) }
        var stat: FileStat
        if let detached { stat = detached } else { stat = try host.stat() }
        if detached != nil { stat.linkCount = 0 }
        stat.size = size
        return stat
    }

    func setSize(_ newSize: UInt64) throws(Errno) {
        guard newSize <= RamFileSystem.maximumFileSize else { throw .fbig }
        try shared.lock.withLock { () throws(Errno) in try shared.resize(to: Int(newSize)) }
    }

    func allocate(offset: UInt64, length: UInt64) throws(Errno) {
        let (end, overflow) = offset.addingReportingOverflow(length)
        if overflow { throw .fbig }
        if end > size { try setSize(end) }
    }

    func sync() throws(Errno) { try fs.sync(shared) }

    func readableBytes() -> UInt64? {
        let end = size
        return lock.withLock { end > offset ? end - offset : 0 }
    }

    func close() {
        let first = lock.withLock { () -> Bool in
            defer { isClosed = true }
            return !isClosed
        }
        if first { fs.release(shared) }
    }
}
