/// An open regular file of a ``RamFileSystem``.
final class RamFileDescription: FileDescription, @unchecked Sendable {
    let node: RamNode
    private var offset: UInt64 = 0
    var isAppending: Bool

    init(node: RamNode, mode: OpenMode) {
        self.node = node
        self.isAppending = mode.append
    }

    var inode: (any Inode)? { node }
    var fileType: FileType { .regularFile }

    private func withBytes<T>(_ body: (inout [UInt8]) throws(Errno) -> T) throws(Errno) -> T {
        guard case .file(var bytes) = node.kind else { throw .badf }
        node.kind = .file([])  // keep the buffer uniquely referenced while it changes
        defer { node.kind = .file(bytes) }
        return try body(&bytes)
    }

    private func readLocked(into buffer: UnsafeMutableRawBufferPointer, at position: UInt64) throws(Errno) -> Int {
        try withBytes { (bytes: inout [UInt8]) throws(Errno) -> Int in
            guard position < UInt64(bytes.count) else { return 0 }
            let count = min(buffer.count, bytes.count - Int(position))
            bytes.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + Int(position), byteCount: count)
            }
            node.accessTime = nowNanoseconds()
            return count
        }
    }

    private func writeLocked(_ buffer: UnsafeRawBufferPointer, at position: UInt64) throws(Errno) -> Int {
        let end = position + UInt64(buffer.count)
        if end > RamFileSystem.maximumFileSize { throw .fbig }
        return try withBytes { (bytes: inout [UInt8]) throws(Errno) -> Int in
            let start = Int(position)
            if Int(end) > bytes.count { try node.chargeData(from: bytes.count, to: Int(end)) }
            // Overwrite what exists, fill a hole with zeros, append the rest (no double writes).
            let overlap = max(0, min(Int(end), bytes.count) - start)
            if overlap > 0 {
                bytes.withUnsafeMutableBytes { target in
                    (target.baseAddress! + start).copyMemory(from: buffer.baseAddress!, byteCount: overlap)
                }
            }
            if start > bytes.count { bytes.append(contentsOf: repeatElement(0, count: start - bytes.count)) }
            if overlap < buffer.count {
                // Typed and contiguous, so the append is one copy.
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[overlap...]).assumingMemoryBound(to: UInt8.self))
            }
            node.modificationTime = nowNanoseconds()
            node.changeTime = node.modificationTime
            return buffer.count
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try node.fs.lock.withLock { () throws(Errno) -> Int in
            let count = try readLocked(into: buffer, at: offset)
            offset += UInt64(count)
            return count
        }
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try node.fs.lock.withLock { () throws(Errno) -> Int in
            if isAppending { offset = node.statLocked().size }
            let count = try writeLocked(buffer, at: offset)
            offset += UInt64(count)
            return count
        }
    }

    func pread(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Errno) -> Int {
        try node.fs.lock.withLock { () throws(Errno) -> Int in try readLocked(into: buffer, at: offset) }
    }

    func pwrite(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(Errno) -> Int {
        try node.fs.lock.withLock { () throws(Errno) -> Int in try writeLocked(buffer, at: offset) }
    }

    func seek(_ delta: Int64, from origin: SeekOrigin) throws(Errno) -> UInt64 {
        try node.fs.lock.withLock { () throws(Errno) -> UInt64 in
            offset = try seekTarget(current: offset, end: node.statLocked().size, offset: delta, origin: origin)
            return offset
        }
    }

    func stat() throws(Errno) -> FileStat { try node.stat() }
    func setSize(_ size: UInt64) throws(Errno) { try node.setSize(size) }

    func allocate(offset: UInt64, length: UInt64) throws(Errno) {
        let (end, overflow) = offset.addingReportingOverflow(length)
        if overflow { throw .fbig }
        try node.fs.lock.withLock { () throws(Errno) in
            if end > node.statLocked().size { try node.setSizeLocked(end) }
        }
    }

    func readableBytes() -> UInt64? {
        node.fs.lock.withLock {
            let size = node.statLocked().size
            return size > offset ? size - offset : 0
        }
    }
}

/// An open directory of any file system: listed with `fd_readdir`, used as a base for `path_*`.
final class DirectoryDescription: FileDescription, @unchecked Sendable {
    let directory: any Inode
    init(inode: any Inode) { self.directory = inode }
    var inode: (any Inode)? { directory }
    var fileType: FileType { .directory }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int { throw .isdir }
    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int { throw .isdir }
    func pread(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Errno) -> Int { throw .isdir }
    func pwrite(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(Errno) -> Int { throw .isdir }
    func seek(_ offset: Int64, from origin: SeekOrigin) throws(Errno) -> UInt64 { throw .isdir }
    func stat() throws(Errno) -> FileStat { try directory.stat() }
    func setSize(_ size: UInt64) throws(Errno) { throw .isdir }
    func allocate(offset: UInt64, length: UInt64) throws(Errno) { throw .isdir }
}
